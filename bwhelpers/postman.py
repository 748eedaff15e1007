"""Postman export: an environment with your credentials and saved IDs, and the guide's collection.

The guide's "Follow along with Postman" page filled a Postman environment called *Bandwidth API Keys*
with your credentials and pointed at a hosted collection that no longer exists. This module writes both
files locally::

    >>> from bwhelpers import postman
    >>> postman.export_environment().relative_to(Path.cwd()).as_posix()
    'exports/Bandwidth API Keys.postman_environment.json'
    >>> postman.export_collection().name
    'Bandwidth Messaging 2.0 setup.postman_collection.json'
    >>> list(postman.environment_frame().columns)[:3]   # the variables as a table, secrets masked
    ['key', 'value', 'type']

Then ``newman run <collection> -e <environment>`` (or Postman's Runner) performs the guide's eight steps
(plus today's A2P registration, a TN Option Order) in one run. The collection starts with a "Get access token"
request (OAuth 2.0 client credentials: Basic ``{{clientId}}:{{clientSecret}}``, ``grant_type=client_credentials``)
whose test stores ``{{accessToken}}``; every other request sends ``Authorization: Bearer {{accessToken}}`` (newman
does not fetch OAuth 2.0 tokens itself). ``build_collection(auth="basic")`` (``--legacy-basic``) builds the guide's
original Basic username:password version instead, which the real service refuses after 2026-12-02. Secrets
(``clientSecret``, ``password``, ``token``, ``secret``) are exported only with ``include_secrets=True``; otherwise
they are typed ``secret`` with empty values - fill them in Postman, or pass them to newman with
``--env-var clientSecret=...``. ``accessToken`` is always exported empty.

Command line: ``python -m bwhelpers postman --out DIR [--include-secrets] [--name NAME]``.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import uuid
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping, Sequence

from . import guide
from .config import DASHBOARD_URL, LEGACY_MESSAGING_URL, MESSAGING_URL, TOKEN_URL, Config, sandbox_urls
from .files import atomic_write
from .masking import mask
from .phone import loose_e164
from .paths import PROJECT_PICTURE
from .sandbox_control import SandboxControl
from .postman_collection import (COLLECTION_NAME, COLLECTION_SCHEMA, ORDER_POLL_DELAY_MS, ORDER_POLL_MAX,  # noqa: F401
                                 PICTURE_FILE, ROWS, STEPS, TN_OPTION_CHECK, TOKEN_FOLDER, TOKEN_REQUEST, _NAMESPACE, _version,
                                 build_collection, step_refs)
from .state import SavedState, StateStore

__all__ = [
    "ENVIRONMENT_NAME", "COLLECTION_NAME", "COLLECTION_SCHEMA", "SECRET_KEYS", "STEPS",
    "Variable", "environment_variables", "environment_frame", "ENVIRONMENT_COLUMNS", "build_environment",
    "export_environment",
    "build_collection", "export_collection", "export", "cli",
]

ENVIRONMENT_NAME = "Bandwidth API Keys"            # the name the guide's Postman button used
SECRET_KEYS = frozenset({"clientSecret", "accessToken", "password", "token", "secret"})
#: variables never exported with a value, not even with include_secrets (set at run time)
RUNTIME_KEYS = frozenset({"accessToken"})
DEFAULT_OUT_DIR = "exports"

#: The guide's Dashboard (real) and messaging bases, used when the config does not say otherwise.
#: The guide's callback URL (a long-gone requestb.in bin); the sandbox gets one of its own bins instead.
GUIDE_CALLBACK_URL = "https://requestb.in/zuaqjbzu"
#: A destination the sandbox accepts and reports as delivered.
SANDBOX_TO = guide.SANDBOX_PHONE
#: ``to``'s description on a real account before the send step texted anyone (no number to carry over)
TO_EMPTY = "empty: type your own mobile number here (the send step had not sent yet); the send requests need it"
#: The sandbox demo account's pre-registered 10DLC campaign (bwhelpers.sandbox.magic).
SANDBOX_CAMPAIGN = "CSBX001"

#: Variable -> one-line meaning, in export order (the table in the notebook shows this column).
_DESCRIPTIONS: dict[str, str] = {
    "account": "Dashboard account id (the guide's {{account}})",
    "accountId": "Dashboard account id (the guide's {{accountId}}; same value as account)",
    "subaccount": "sub-account (site) id",
    "location": "location (sippeer) id, saved by step <step:location> from the Location header",
    "applicationId": "messaging application id, saved by step <step:application>",
    "order": "number order id, saved by step <step:orders>",
    "clientId": "API credential Client ID (Bandwidth App > Account > API Credentials)",
    "clientSecret": "API credential Client Secret (shown once when created)",
    "tokenUrl": "OAuth 2.0 token endpoint (the 'Get access token' request posts here)",
    "accessToken": "set by the 'Get access token' request; every other request sends it as Bearer",
    "userId": "legacy messaging API user id (u-...)",
    "user": "legacy API user's username (Basic; the real service refuses it after 2026-12-02)",
    "password": "legacy API user's password",
    "token": "legacy messaging API token",
    "secret": "legacy messaging API secret",
    "dashboardUrl": "Dashboard API base, including /api",
    "messagingUrl": "current messaging API base, including /api/v2 (send as /users/{{accountId}}/messages)",
    "legacyMessagingUrl": "the guide's messaging API base (send as /users/{{userId}}/messages, token:secret)",
    "callbackUrl": "the guide's single CallbackUrl (legacy step <step:application>b)",
    "inboundCallbackUrl": "the application's InboundCallbackUrl: incoming messages (step <step:application>)",
    "outboundCallbackUrl": "the application's OutboundCallbackUrl: delivery receipts (step <step:application>)",
    "legacyApplication": "true = also run folder <step:application>b, the guide's CallbackUrl application",
    "from": "the number to send from: first saved number; step <step:numbers> sets it to the ordered number",
    "to": "where the send step sends the test message",
    "campaignId": "the REGISTERED 10DLC campaign the A2P step assigns the number to (saved by it; sandbox: CSBX001)",
    "tnOptionOrder": "the TN Option Order id, saved by the A2P step",
}


# --------------------------------------------------------------------------- helpers
def _str(value: Any) -> str:
    return "" if value is None else str(value)


# --------------------------------------------------------------------------- config + state
def _resolve_config(config: "Config | Mapping[str, Any] | None") -> "Config":
    """The given Config (or a mapping of Config fields), else ``Config.resolve()``. An export only needs URLs
    and ids, so no sandbox is started: the sandbox target without ``BW_SANDBOX_URL`` points at the shared
    sandbox's default address."""
    if isinstance(config, Config):
        return config
    if config is not None:  # e.g. a sandbox handle's credentials plus URLs: the fields Config has
        names = {f.name for f in fields(Config)}
        return Config(**{k: v for k, v in config.items() if k in names})
    config = Config.resolve()
    if config.is_sandbox:  # the demo account's credentials, at BW_SANDBOX_URL or the shared sandbox's address
        from .sandbox import DEFAULT_PORT, DEMO

        config = config.attach_sandbox(config.sandbox_url or f"http://127.0.0.1:{DEFAULT_PORT}", DEMO)
    return config


def _load_state(config: Any, state: Any) -> SavedState:
    """The saved walkthrough state for ``config``'s profile: ``state`` itself (a SavedState, or a dict in the
    file's shape), else from ``state`` (a StateStore) or the default StateStore."""
    if isinstance(state, (SavedState, Mapping)):
        return SavedState.from_dict(state)
    store = state if state is not None else StateStore()
    return store.saved(config.profile)


def _saved_ids(state: SavedState) -> dict[str, Any]:
    """applicationId/location/order/numbers/callbackUrl/campaignId/tnOptionOrder from a profile's saved state."""
    numbers: list[str] = []
    for n in [*state.numbers, *(n for o in state.orders for n in o.numbers)]:
        e164 = loose_e164(n)
        if e164 not in numbers:
            numbers.append(e164)
    app, a2p, last = state.application, state.a2p, state.last_order
    sent = state.last_text.to if state.last_text else None  # one number or a group's list: its first
    return {"to": _str(sent[0] if isinstance(sent, list) and sent else sent if isinstance(sent, str) else None),
            "applicationId": _str(state.application_id), "location": _str(state.location_id),
            "order": _str(last.id) if last else "", "numbers": numbers,
            "callbackUrl": _str(app.callback_url if app else None),
            "outboundCallbackUrl": _str(app.outbound_callback_url if app else None),
            "campaignId": _str(a2p.campaign_id if a2p else None), "tnOptionOrder": _str(a2p.order_id if a2p else None)}


def _urls(config: "Config") -> dict[str, str]:
    """dashboardUrl, messagingUrl (current, .../api/v2), legacyMessagingUrl (.../v2) for this config."""
    if config.is_sandbox and config.sandbox_base:
        urls = sandbox_urls(config.sandbox_base)
        current, legacy = urls["messaging_url"], urls["legacy_messaging_url"]
    else:
        current, legacy = MESSAGING_URL, LEGACY_MESSAGING_URL
    if config.legacy_messaging:   # the config targets the guide's legacy API
        legacy = config.messaging_url
    elif not config.is_sandbox:
        current = config.messaging_url
    token = config.token_url
    if config.is_sandbox and config.sandbox_base and token in ("", TOKEN_URL):
        token = sandbox_urls(config.sandbox_base)["token_url"]
    return {"dashboardUrl": config.dashboard_url or DASHBOARD_URL, "messagingUrl": current,
            "legacyMessagingUrl": legacy, "tokenUrl": token or TOKEN_URL}


# --------------------------------------------------------------------------- environment
@dataclass(frozen=True)
class Variable:
    """One environment variable (``value`` is the real value; :meth:`shown` masks secrets)."""

    key: str
    value: str
    type: str = "default"
    description: str = ""
    source: str = ""

    @property
    def secret(self) -> bool:
        return self.type == "secret"

    def shown(self) -> str:
        return mask(self.value) if self.secret else self.value

    def as_postman(self, include_secrets: bool) -> dict[str, Any]:
        value = self.value if (include_secrets or not self.secret) and self.key not in RUNTIME_KEYS else ""
        return {"key": self.key, "value": value, "type": self.type, "enabled": True}


def _variables(config: Any = None, state: Any = None, to: str | None = None,
               callback_url: str | None = None) -> list[Variable]:
    config = _resolve_config(config)
    ids = _saved_ids(_load_state(config, state))
    urls = _urls(config)
    sandbox = config.is_sandbox
    account = _str(config.account_id)
    numbers: list[str] = ids["numbers"]
    if callback_url is None:
        callback_url = ids["callbackUrl"] or (SandboxControl(config).bin_url("postman") if sandbox and config.sandbox_base
                                              else GUIDE_CALLBACK_URL)
    to_source = "argument" if to else "default"
    if to is None:  # a real account: the number the send step last texted (your own phone; not a secret)
        to = SANDBOX_TO if sandbox else ids["to"]
        to_source = "state" if to and not sandbox else "default"
    rows: list[tuple[str, Any, str]] = [
        ("account", account, "config"),
        ("accountId", account, "config"),
        ("subaccount", config.site_id, "config"),
        ("location", ids["location"], "state"),
        ("applicationId", ids["applicationId"], "state"),
        ("order", ids["order"], "state"),
        ("clientId", config.client_id, "config"),
        ("clientSecret", config.client_secret, "config"),
        ("tokenUrl", urls["tokenUrl"], "config"),
        ("accessToken", "", "run time"),
        ("userId", config.user_id, "config"),
        ("user", config.username, "config"),
        ("password", config.password, "config"),
        ("token", config.api_token, "config"),
        ("secret", config.api_secret, "config"),
        ("dashboardUrl", urls["dashboardUrl"], "config"),
        ("messagingUrl", urls["messagingUrl"], "config"),
        ("legacyMessagingUrl", urls["legacyMessagingUrl"], "config"),
        ("callbackUrl", callback_url, "default"),
        ("inboundCallbackUrl", callback_url, "default"),
        ("outboundCallbackUrl", ids["outboundCallbackUrl"] or callback_url, "default"),
        ("legacyApplication", "false", "default"),
        ("from", numbers[0] if numbers else "", "state"),
        ("to", to, to_source if to != SANDBOX_TO else "default"),
        ("campaignId", ids["campaignId"] or (SANDBOX_CAMPAIGN if sandbox else ""),
         "state" if ids["campaignId"] else "default"),
        ("tnOptionOrder", ids["tnOptionOrder"], "state"),
    ]
    out = [Variable(key, _str(value), "secret" if key in SECRET_KEYS else "default",
                    step_refs(_DESCRIPTIONS.get(key, "") if key != "to" or to else TO_EMPTY), source)
           for key, value, source in rows]
    for i, number in enumerate(numbers, 1):
        out.append(Variable(f"number{i}", number, "default", f"saved number {i}", "state"))
    return out


def environment_variables(config: Any = None, state: Any = None, *, include_secrets: bool = False,
                          masked: bool = True, to: str | None = None,
                          callback_url: str | None = None) -> list[dict[str, Any]]:
    """The environment's variables as rows ``{key, value, type, enabled, description, source}`` for previews.

    Secret values are masked (``********``) unless ``masked=False``; with ``include_secrets=False`` (the
    default, matching :func:`export_environment`) the ``value`` column shows what the file will contain, i.e.
    an empty string, and ``masked=False`` never reveals more than the file would.
    """
    rows = []
    for var in _variables(config, state, to=to, callback_url=callback_url):
        if var.secret and not include_secrets:
            value = ""
        elif var.secret and masked:
            value = var.shown()
        else:
            value = var.value
        rows.append({"key": var.key, "value": value, "type": var.type, "enabled": True,
                     "description": var.description, "source": var.source,
                     "set": bool(var.value)})
    return rows


#: the columns of :func:`environment_frame` (and of the export form's preview table)
ENVIRONMENT_COLUMNS = ("key", "value", "type", "enabled", "set", "source", "description")


def environment_frame(config: Any = None, state: Any = None, **kwargs: Any) -> Any:
    """:func:`environment_variables` as a pandas DataFrame (secrets masked) for notebooks."""
    import pandas as pd

    return pd.DataFrame(environment_variables(config, state, **kwargs), columns=list(ENVIRONMENT_COLUMNS))


def build_environment(config: Any = None, state: Any = None, name: str = ENVIRONMENT_NAME,
                      include_secrets: bool = False, to: str | None = None,
                      callback_url: str | None = None) -> dict[str, Any]:
    """The Postman environment document (a dict), without writing it."""
    variables = _variables(config, state, to=to, callback_url=callback_url)
    return {
        "id": str(uuid.uuid4()),
        "name": name,
        "values": [v.as_postman(include_secrets) for v in variables],
        "_postman_variable_scope": "environment",
        "_postman_exported_at": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "_postman_exported_using": f"bwhelpers/{_version()}",
    }


def export_environment(config: Any = None, state: Any = None, out_dir: str | os.PathLike[str] = DEFAULT_OUT_DIR,
                       name: str = ENVIRONMENT_NAME, include_secrets: bool = False, *, to: str | None = None,
                       callback_url: str | None = None) -> Path:
    """Write ``<out_dir>/<name>.postman_environment.json`` and return its path.

    :param config: a :class:`bwhelpers.config.Config`, a plain dict with the same field names
        (``account_id``, ``site_id``, ``username``, ``password``, ``user_id``, ``api_token``, ``api_secret``,
        ``dashboard_url``, ``messaging_url``, ``target``; a sandbox handle's ``credentials`` plus ``url`` works),
        or None for ``Config.resolve()``.
    :param state: the saved walkthrough state (a dict, or a StateStore); None reads the state file for the
        config's profile. Supplies ``applicationId``, ``location``, ``order``, ``from`` and ``number1..N``.
    :param include_secrets: write ``clientSecret``/``password``/``token``/``secret`` values (typed ``secret``
        either way; ``accessToken`` stays empty).
        Off by default: the file is then safe to share, and newman takes the secrets with ``--env-var``.
    :param to: the test message's destination (default: a sandbox number on the sandbox, empty on real).
    """
    doc = build_environment(config, state, name=name, include_secrets=include_secrets, to=to,
                            callback_url=callback_url)
    return _write_json(Path(out_dir) / f"{_filename(name)}.postman_environment.json", doc,
                       private=include_secrets)


def export_collection(out_dir: str | os.PathLike[str] = DEFAULT_OUT_DIR, name: str = COLLECTION_NAME,
                      auth: str = "oauth") -> Path:
    """Write ``<out_dir>/<name>.postman_collection.json`` (Collection v2.1.0) and return its path, and beside it the
    picture its media upload sends (``smile.png``: run newman with ``--working-dir <out_dir>``)."""
    path = _write_json(Path(out_dir) / f"{_filename(name)}.postman_collection.json", build_collection(name, auth))
    (Path(out_dir) / PICTURE_FILE).write_bytes(PROJECT_PICTURE.read_bytes())
    return path


def export(config: Any = None, state: Any = None, out_dir: str | os.PathLike[str] = DEFAULT_OUT_DIR,
           name: str = ENVIRONMENT_NAME, include_secrets: bool = False,
           collection_name: str = COLLECTION_NAME, auth: str = "oauth", **kwargs: Any) -> dict[str, Path]:
    """Both files at once: ``{"environment": Path, "collection": Path}``."""
    return {
        "environment": export_environment(config, state, out_dir=out_dir, name=name,
                                          include_secrets=include_secrets, **kwargs),
        "collection": export_collection(out_dir=out_dir, name=collection_name, auth=auth),
    }


# --------------------------------------------------------------------------- files
def _filename(name: str) -> str:
    cleaned = re.sub(r"[^\w .()+-]+", "_", name).strip(" .")
    return cleaned or "postman"


def _write_json(path: Path, doc: Mapping[str, Any], private: bool = False) -> Path:
    """Atomic write; files holding secrets are created 0600."""
    atomic_write(path, json.dumps(doc, indent=2, ensure_ascii=False) + "\n", mode=0o600 if private else 0o644)
    return path.resolve()


# --------------------------------------------------------------------------- command line
def cli(argv: Sequence[str] | None = None) -> int:
    """``python -m bwhelpers postman --out DIR [--include-secrets] [--name NAME] [--collection-name NAME] [--to N]``."""
    parser = argparse.ArgumentParser(
        prog="python -m bwhelpers postman",
        description="Export a Postman environment (your credentials + saved IDs) and the guide's collection. "
                    "Credentials come from BW_* env vars / the credentials file, else the local sandbox.")
    parser.add_argument("--out", default=DEFAULT_OUT_DIR, help="output folder (default: %(default)s, gitignored)")
    parser.add_argument("--include-secrets", action="store_true",
                        help="write clientSecret/password/token/secret into the environment (default: empty, "
                             "type secret)")
    parser.add_argument("--legacy-basic", action="store_true",
                        help="a collection with the guide's username:password (legacy API user) instead of OAuth "
                             "2.0 API credentials; the real service refuses it after 2026-12-02")
    parser.add_argument("--name", default=ENVIRONMENT_NAME, help="environment name (default: %(default)r)")
    parser.add_argument("--collection-name", default=COLLECTION_NAME, help="collection name (default: %(default)r)")
    parser.add_argument("--to", default=None, help="destination of the test message (E.164)")
    parser.add_argument("--no-environment", action="store_true", help="write only the collection")
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))

    collection = export_collection(out_dir=args.out, name=args.collection_name,
                                   auth="basic" if args.legacy_basic else "oauth")
    print(f"collection:  {collection}")
    if args.no_environment:
        return 0
    try:
        config = _resolve_config(None)
        environment = export_environment(config, out_dir=args.out, name=args.name,
                                         include_secrets=args.include_secrets, to=args.to)
    except Exception as exc:  # configuration problems: say what and how to fix, no traceback
        print(f"error: cannot export the environment: {exc}", file=sys.stderr)
        return 1
    print(f"environment: {environment}")
    if config.is_sandbox:
        print(f"target: the local sandbox at {config.sandbox_base} - keep it running "
              "(python -m bwhelpers sandbox) while Postman/newman use this environment")
    if args.include_secrets:
        print("warning: the environment contains your client secret, password, token and secret - do not commit "
              "or share it", file=sys.stderr)
    else:
        first = "password=..." if args.legacy_basic else "clientSecret=..."
        print("secrets are empty (type secret): fill them in Postman, or run newman with "
              f"--env-var {first} [--env-var token=... --env-var secret=...]")
    fill = "" if args.include_secrets else (" --env-var password=..." if args.legacy_basic else " --env-var clientSecret=...")
    # --working-dir: the media upload's file (the project's picture) is written beside the collection
    print(f'run: npx newman run "{collection}" -e "{environment}" --working-dir "{Path(collection).parent}"{fill}')
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(cli())
