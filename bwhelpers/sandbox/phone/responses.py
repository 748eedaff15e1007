"""
bwhelpers.sandbox.phone.responses
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~

The phone page: each of an account's numbers as a phone (conversation threads, delivery ticks, a
reply box that texts the number as the other person), server-rendered with tornado templates.

* ``POST /_sandbox/phone/link`` ``{ttl?, number?}`` (JSON, the account's credentials; the admin key
  with ``accountId``) -> ``{url, expires, expiresAt}``: a short-lived signed link to the page.
* ``GET /_sandbox/phone/{accountId}[?number=&with=&t=]`` — the page (HTML).
* ``GET /_sandbox/phone/{accountId}/state[?number=&with=&t=]`` — ``{version}``: the page's small script
  polls it and reloads when what the page shows changed.
* ``POST /_sandbox/phone/{accountId}/reply`` — the reply box (a form with the page's ``_csrf`` token,
  or JSON ``{to, from, text}``): a ``message-received`` through :func:`messaging.models.create_inbound`,
  the function behind ``POST /_sandbox/inbound``, then back to the thread (303).

Who sees a page: the account's credentials (HTTP Basic: the browser asks; or Bearer), or a signed
link ``?t=`` for that account that has not expired on the sandbox's clock. Nothing of another account
is ever read. Every answer carries ``nosniff``, ``no-store``, ``Referrer-Policy: same-origin`` (the link's token never
leaves in a Referer to another site) and a Content-Security-Policy whose only script is the page's own (nonce).
"""
from __future__ import annotations

import base64
import re
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode

import tornado.escape
import tornado.template

from ...bidi import visible
from .. import credentials, guards
from ..auth import parse_basic
from ..control.responses import ControlHandler
from ..disabled import AccountDisabled, any_disabled
from ..control import exceptions as control_exc
from ..exceptions import SandboxError
from ..media import models as media_models
from . import models
from .exceptions import (
    AccountDisabledHere, AccountRequired, BadTtl, CannotSign, FormRefused, LinkInvalid, NoSuchMedia, NotYourNumber, PictureTooLarge,
    SignInRequired, UnsupportedContentType,
)

TEMPLATES = Path(__file__).resolve().parent / "templates"
_loader = tornado.template.Loader(str(TEMPLATES), autoescape="shown")


def shown(value: Any) -> str:
    """THE escaping of the phone page: HTML-escaped, with bidi controls named (``⟨U+202E⟩``) so a text never
    reorders the page ("‮evil reply" would read "ylper live"), as in the notebooks' tables."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return tornado.escape.xhtml_escape(visible(str(value)))
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
MAX_PARTIES = 10


def _render(name: str, **namespace: Any) -> bytes:
    return _loader.load(name).generate(shown=shown, **namespace)


class PhoneHandler(ControlHandler):
    """Security headers on every answer, HTML errors for browsers, the page's own CSRF rule."""

    nonce = ""

    def set_default_headers(self) -> None:
        super().set_default_headers()
        self.nonce = secrets.token_urlsafe(16)
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Cache-Control", "no-store")
        self.set_header("Referrer-Policy", "same-origin")  # never to another site; Origin stays on our own posts
        self.set_header("X-Frame-Options", "DENY")
        self.set_header("Content-Security-Policy",
                        f"default-src 'none'; img-src 'self' data:; style-src 'nonce-{self.nonce}'; "
                        f"script-src 'nonce-{self.nonce}'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
                        "frame-ancestors 'none'")

    def check_csrf(self) -> None:
        """A cross-origin ``Origin`` is refused (as everywhere); a form post needs this page's ``_csrf`` token;
        JSON passes (a page on another site cannot send it without a preflight the sandbox never grants)."""
        method = self.request.method or "GET"
        refusal = guards.check_origin(method, self.request.headers.get("Origin"), self.ctx.allowed_hosts)
        if refusal is not None:
            raise self.refused(refusal)
        if method in ("GET", "HEAD", "OPTIONS"):
            return
        ctype = guards.content_type(self.request)
        if ctype == "application/json":
            return
        if ctype in FORM_TYPES:
            account = (self.path_kwargs or {}).get("account_id", "")
            if not models.check_form_token(self.ctx.admin_key, account, self.get_body_argument("_csrf", None)):
                raise FormRefused()
            return
        raise UnsupportedContentType(method, ctype)

    def wants_html(self) -> bool:
        accept = self.request.headers.get("Accept", "")
        return "text/html" in accept and "application/json" not in accept.split(",")[0]

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if not self.wants_html() or not isinstance(exc, SandboxError):
            super().write_error(status_code, **kwargs)
            return
        self.set_status(exc.status)
        for k, v in exc.headers.items():
            self.set_header(k, v)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.sandbox_error = exc
        self.finish(_render("error.html", status=exc.status, message=getattr(exc, "description", str(exc)),
                            nonce=self.nonce))

    def viewer(self, account_id: str) -> str | None:
        """Who may see ``account_id``'s phone: a valid signed link (returns its token) or the account's
        credentials (returns None); else 401/403."""
        token = self.get_argument("t", None)
        if token:
            models.verify_link(self.ctx.admin_key, account_id, token, models.now(self.db))
            if any_disabled(self.db, (account_id,)):  # a link signed before the host removed the participant
                raise AccountDisabledHere()
            self.check_rate(account_id)  # the account's request rate, as with its credentials (workshop mode)
            return token
        if self.is_admin():
            return None
        basic = parse_basic(self.request.headers.get("Authorization"))
        try:
            credential = credentials.check_client(self.db, *basic) if basic else None
        except AccountDisabled:
            raise AccountDisabledHere() from None
        if credential is not None:  # the API credential's client id and secret, typed into the browser's prompt
            if credential["account_id"] != account_id:
                raise self.forbidden()
            return None
        self.auth_principal(account_id)
        return None

    def unauthorized(self, err: Any = None) -> SignInRequired:
        return SignInRequired(getattr(err, "reason", "") if err is not None else "")

    def page_path(self, account_id: str, suffix: str = "") -> str:
        return f"{self.ctx.url_prefix}/_sandbox/phone/{account_id}{suffix}"


def _parties(raw: str | None) -> tuple[str, list[str], str | None]:
    """``with`` (comma-separated numbers) -> (key, parties, problem)."""
    from ..messaging.models import normalize_tn

    if not raw or not raw.strip():
        return "", [], None
    parts = [p.strip() for p in raw.split(",") if p.strip()]
    if len(parts) > MAX_PARTIES:
        return "", [], f"at most {MAX_PARTIES} numbers in one conversation"
    out = []
    for part in parts:
        tn = normalize_tn(part)
        if tn is None:
            return "", [], (f"{part[:40]!r} is not a telephone number: write it in E.164 format, like +19195550123 "
                            "(+1 may be left out for US numbers)")
        out.append(tn)
    parties = sorted(set(out))
    return ",".join(parties), parties, None


class PhonePage(PhoneHandler):
    def get(self, account_id: str) -> None:
        token = self.viewer(account_id)
        self.show(account_id, token, self.get_argument("number", None), self.get_argument("with", None))

    def show(self, account_id: str, token: str | None, number: str | None, with_: str | None, *,
             error: str = "", draft: str = "", status: int = 200) -> None:
        numbers = models.account_numbers(self.db, account_id)
        known = {n["number"]: n for n in numbers}
        if number and number not in known:
            raise NotYourNumber(number)
        number = number or (numbers[0]["number"] if numbers else None)
        key, parties, problem = _parties(with_)
        if problem and not error:
            error, status = f"with: {problem}", 400
        at = models.now(self.db)
        threads, bubbles = models.view(self.db, account_id, number, key, at) if number else ([], [])
        expires = models.verify_link(self.ctx.admin_key, account_id, token, at) if token else None

        def link(path: str = "", **params: Any) -> str:
            query = {k: v for k, v in params.items() if v}
            if token:
                query["t"] = token
            return self.page_path(account_id, path) + (f"?{urlencode(query)}" if query else "")

        state = link("/state", number=number, **{"with": key})

        def attach(urls: list[str]) -> list[models.Attachment]:
            return models.attachments(self.db, account_id, urls, self.ctx.allowed_hosts)

        def media_url(media_id: str) -> str:
            return link("/media/" + "/".join(quote(part, safe="") for part in media_id.split("/")))
        self.set_status(status)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(_render(
            "phone.html", account_id=account_id, numbers=numbers, number=number, current=known.get(number or ""),
            threads=threads, key=key, parties=parties, bubbles=bubbles, error=error, draft=draft, link=link,
            state_url=state, version=models.version([*threads, *bubbles]), token=token or "",
            csrf=models.form_token(self.ctx.admin_key, account_id), expires=models.iso(expires) if expires else "",
            # the signed link in the form's URL too: the server grants a picture's body only to a head that proves
            # the account (PhoneReply.may_post)
            reply_url=self.page_path(account_id, "/reply") + (f"?{urlencode({'t': token})}" if token else ""),
            nonce=self.nonce, magic=models.magic_name,
            clock=_clock, short=_short, meaning=models.meaning, attachments=attach, media_url=media_url,
            samples=sorted(media_models.SAMPLES), max_picture=media_models.MAX_FILE_BYTES,
            mms=bool((known.get(number or "") or {}).get("mms"))))


def _clock(ts: float) -> str:
    import time

    return time.strftime("%H:%M:%S", time.gmtime(ts))


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"


class PhoneState(PhoneHandler):
    """What the page's script polls: a fingerprint of what the page shows."""

    def get(self, account_id: str) -> None:
        token = self.viewer(account_id)
        number = self.get_argument("number", None)
        if number and number not in {n["number"] for n in models.account_numbers(self.db, account_id)}:
            raise NotYourNumber(number)
        key, _parties_list, _problem = _parties(self.get_argument("with", None))
        at = models.now(self.db)
        threads, bubbles = models.view(self.db, account_id, number, key, at) if number else ([], [])
        body: dict[str, Any] = {"version": models.version([*threads, *bubbles])}
        if token:
            body["expires"] = models.verify_link(self.ctx.admin_key, account_id, token, at)
        self.send_json(body)


class PhoneReply(PhonePage):
    """The reply box: a text to the account's number from the other person, as ``POST /_sandbox/inbound``; in a
    group thread, from the member chosen in ``as``, to the number and the rest of the group."""

    #: a picture of up to 3.5 MB (the Media API's limit) plus the form's own fields
    max_body_bytes = media_models.MAX_FILE_BYTES + 64 * 1024

    @staticmethod
    def may_post(ctx: Any, account_id: str, uri: str, headers: Any) -> bool:
        """Before the body is read: does the request carry a valid signed link (``t``) for ``account_id``? (Else the
        server asks for the account's credentials.)"""
        from urllib.parse import parse_qs, urlsplit

        token = (parse_qs(urlsplit(uri).query).get("t") or [""])[0]
        if not token:
            return False
        try:
            models.verify_link(ctx.admin_key, account_id, token, models.now(ctx.db))
        except Exception:
            return False
        return not any_disabled(ctx.db, (account_id,))

    def post(self, account_id: str) -> None:
        from ..messaging import models as messaging

        token = self.viewer(account_id)
        ctype = (self.request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype == "application/json":
            body = self.body_json()
            if not isinstance(body, dict):
                raise control_exc.NotAnObject("{to, from, text}")
            try:
                result = messaging.create_inbound(self.db, body.get("to"), body.get("from"), body.get("text"),
                                                  body.get("media"), account_id=account_id,
                                                  media_base=self.absolute(""))
            except messaging.InboundError as refused:
                raise control_exc.InboundRefused(refused.description, refused.status) from None
            self.send_json(result, status=202)
            return
        number = self.get_body_argument("number", "")
        with_ = self.get_body_argument("with", "")
        text = self.get_body_argument("text", "")
        key, parties, problem = _parties(with_)
        if problem or not parties:
            self.show(account_id, token, number or None, None, draft=text, status=400,
                      error=f"from: {problem or 'write the number the text comes from'}")
            return
        sender = parties[0]
        if len(parties) > 1:  # a group: the reply comes from the person chosen in "as", to the number and the rest
            sender = self.get_body_argument("as", "")
            if sender not in parties:
                self.show(account_id, token, number or None, key, draft=text, status=400,
                          error="as: choose who in the group writes (one of " + ", ".join(parties) + ")")
                return
        media = self.pictures()
        try:  # the function behind POST /_sandbox/inbound, with the same media base
            messaging.create_inbound(self.db, number, sender, text, media or None, account_id=account_id,
                                     media_base=self.absolute(""), cc=[p for p in parties if p != sender])
        except messaging.InboundError as exc:
            known = {n["number"] for n in models.account_numbers(self.db, account_id)}
            self.show(account_id, token, number if number in known else None, key, draft=text,
                      status=exc.status if exc.status != 404 else 400, error=exc.description)
            return
        query = {"number": number, "with": key, **({"t": token} if token else {})}
        self.redirect(f"{self.page_path(account_id)}?{urlencode(query)}#last", status=303)

    def pictures(self) -> list[dict[str, Any]]:
        """The form's pictures as ``/_sandbox/inbound`` media items: a built-in sample, an uploaded file (base64)."""
        out: list[dict[str, Any]] = []
        sample = self.get_body_argument("sample", "")
        if sample:
            out.append({"sample": sample})
        for upload in self.request.files.get("picture", [])[:1]:
            if not upload.body:
                continue
            out.append({"filename": _filename(upload.filename), "contentType": upload.content_type,
                        "content": base64.b64encode(upload.body).decode("ascii")})
        return out

    def too_large(self) -> SandboxError:
        return PictureTooLarge(media_models.MAX_FILE_BYTES)


def _filename(raw: str | None) -> str:
    """A browser's file name as a plain one (``photo.png``): the media id's last segment."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip("._-")[:100]
    return name or "picture"


class PhoneMedia(PhoneHandler):
    """A picture of the account's media, for the page's ``<img>``: never another account's, never run as a page."""

    def get(self, account_id: str, media_id: str) -> None:
        self.viewer(account_id)
        try:
            media_id = media_models.check_media_id(unquote(media_id))
        except media_models.MediaIdError as exc:
            raise NoSuchMedia(f"media id: {exc}") from None
        found = media_models.get_media(self.db, account_id, media_id)
        if found is None:
            raise NoSuchMedia()
        ctype = media_models.normalize_type(found.content_type)
        self.set_header("Content-Security-Policy", "default-src 'none'; sandbox")
        if ctype in models.INLINE_TYPES:
            self.set_header("Content-Type", ctype)
        else:
            self.set_header("Content-Type", "application/octet-stream")
            self.set_header("Content-Disposition", f'attachment; filename="{_filename(media_id)}"')
        self.finish(found.content)


class PhoneLink(ControlHandler):
    """``POST /_sandbox/phone/link``: a signed link to the caller's phone page."""

    def post(self) -> None:
        body = self.body_json()
        if not isinstance(body, dict):
            raise control_exc.NotAnObject("{ttl?, number?}")
        account = self.tenant()
        if not account:
            raise AccountRequired()
        ttl = body.get("ttl", models.LINK_TTL)
        if not isinstance(ttl, int) or isinstance(ttl, bool) or not models.LINK_TTL_MIN <= ttl <= models.LINK_TTL_MAX:
            raise BadTtl(models.LINK_TTL_MIN, models.LINK_TTL_MAX, models.LINK_TTL)
        number = body.get("number")
        if number is not None:
            if not isinstance(number, str) or number not in {n["number"] for n in
                                                              models.account_numbers(self.db, account)}:
                raise NotYourNumber(str(number)[:40])
        try:
            path, expires = models.link_path(self.ctx.admin_key, account, ttl, models.now(self.db), number)
        except LinkInvalid as unsigned:
            raise CannotSign(unsigned.description) from None
        self.send_json({"url": self.absolute(path), "accountId": account, "expires": expires,
                        "expiresAt": models.iso(expires), "ttl": ttl}, status=201)
