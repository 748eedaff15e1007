"""Postman export: an environment with your credentials and saved IDs, and the guide's collection.

The guide's "Follow along with Postman" page filled a Postman environment called *Bandwidth API Keys*
with your credentials and pointed at a hosted collection that no longer exists. This module writes both
files locally::

    >>> from bwhelpers import postman
    >>> postman.export_environment()                  # exports/Bandwidth API Keys.postman_environment.json
    >>> postman.export_collection()                   # exports/Bandwidth Messaging 2.0 setup.postman_collection.json
    >>> postman.environment_frame()                   # the variables as a table, secrets masked

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
from typing import Any, Iterable, Mapping, Sequence

from . import steps
from .config import DASHBOARD_URL, LEGACY_MESSAGING_URL, MESSAGING_URL, SANDBOX_TOKEN_PATH, TOKEN_URL, Config
from .files import atomic_write
from .masking import mask
from .phone import loose_e164
from .state import SavedState, StateStore

__all__ = [
    "ENVIRONMENT_NAME", "COLLECTION_NAME", "COLLECTION_SCHEMA", "SECRET_KEYS", "STEPS",
    "Variable", "environment_variables", "environment_frame", "build_environment", "export_environment",
    "build_collection", "export_collection", "export", "cli",
]

ENVIRONMENT_NAME = "Bandwidth API Keys"            # the name the guide's Postman button used
COLLECTION_NAME = "Bandwidth Messaging 2.0 setup"
COLLECTION_SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
SECRET_KEYS = frozenset({"clientSecret", "accessToken", "password", "token", "secret"})
#: variables never exported with a value, not even with include_secrets (set at run time)
RUNTIME_KEYS = frozenset({"accessToken"})
DEFAULT_OUT_DIR = "exports"

#: The guide's Dashboard (real) and messaging bases, used when the config does not say otherwise.
#: the first request of the collection (OAuth 2.0), before the guide's steps
TOKEN_FOLDER = "0 Get access token"
TOKEN_REQUEST = "Get access token"
#: The guide's callback URL (a long-gone requestb.in bin); the sandbox gets one of its own bins instead.
GUIDE_CALLBACK_URL = "https://requestb.in/zuaqjbzu"
#: A destination the sandbox accepts and reports as delivered.
SANDBOX_TO = "+19195550123"
#: The sandbox demo account's pre-registered 10DLC campaign (bwhelpers.sandbox.magic).
SANDBOX_CAMPAIGN = "CSBX001"
#: Order-status polling in the collection: at most this many checks, this many ms apart.
ORDER_POLL_MAX = 30
ORDER_POLL_DELAY_MS = 1000

_NAMESPACE = uuid.UUID("6f1c2f0e-4b7a-5d2e-9c1a-b3a7d0e1f2a4")   # bwhelpers' uuid5 namespace (fixed forever)

#: Variable -> one-line meaning, in export order (the table in the notebook shows this column).
_DESCRIPTIONS: dict[str, str] = {
    "account": "Dashboard account id (the guide's {{account}})",
    "accountId": "Dashboard account id (the guide's {{accountId}}; same value as account)",
    "subaccount": "sub-account (site) id",
    "location": "location (sippeer) id, saved by step 2 from the Location header",
    "applicationId": "messaging application id, saved by step 1",
    "order": "number order id, saved by step 6",
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
    "callbackUrl": "the guide's single CallbackUrl (legacy step 1b)",
    "inboundCallbackUrl": "the application's InboundCallbackUrl: incoming messages (step 1)",
    "outboundCallbackUrl": "the application's OutboundCallbackUrl: delivery receipts (step 1)",
    "legacyApplication": "true = also run folder 1b, the guide's CallbackUrl application",
    "from": "the number to send from: first saved number; step 7 sets it to the ordered number",
    "to": "where the send step sends the test message",
    "campaignId": "the REGISTERED 10DLC campaign the A2P step assigns the number to (saved by it; sandbox: CSBX001)",
    "tnOptionOrder": "the TN Option Order id, saved by the A2P step",
}


# --------------------------------------------------------------------------- helpers
def _version() -> str:
    from . import __version__
    return str(__version__)


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
    return {"applicationId": _str(state.application_id), "location": _str(state.location_id),
            "order": _str(last.id) if last else "", "numbers": numbers,
            "callbackUrl": _str(app.callback_url if app else None),
            "outboundCallbackUrl": _str(app.outbound_callback_url if app else None),
            "campaignId": _str(a2p.campaign_id if a2p else None), "tnOptionOrder": _str(a2p.order_id if a2p else None)}


def _urls(config: "Config") -> dict[str, str]:
    """dashboardUrl, messagingUrl (current, .../api/v2), legacyMessagingUrl (.../v2) for this config."""
    if config.is_sandbox and config.sandbox_base:
        root = config.sandbox_base
        current, legacy = f"{root}/api/v2", f"{root}/v2"
    else:
        current, legacy = MESSAGING_URL, LEGACY_MESSAGING_URL
    if config.legacy_messaging:   # the config targets the guide's legacy API
        legacy = config.messaging_url
    elif not config.is_sandbox:
        current = config.messaging_url
    token = config.token_url
    if config.is_sandbox and config.sandbox_base and token in ("", TOKEN_URL):
        token = f"{config.sandbox_base}{SANDBOX_TOKEN_PATH}"
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
    saved = _saved_ids(_load_state(config, state))
    urls = _urls(config)
    sandbox = config.is_sandbox
    account = _str(config.account_id)
    numbers: list[str] = saved["numbers"]
    if callback_url is None:
        root = urls["dashboardUrl"][:-4] if urls["dashboardUrl"].endswith("/api") else urls["dashboardUrl"]
        callback_url = saved["callbackUrl"] or (f"{root}/_sandbox/bins/postman" if sandbox else GUIDE_CALLBACK_URL)
    if to is None:
        to = SANDBOX_TO if sandbox else ""
    rows: list[tuple[str, Any, str]] = [
        ("account", account, "config"),
        ("accountId", account, "config"),
        ("subaccount", config.site_id, "config"),
        ("location", saved["location"], "state"),
        ("applicationId", saved["applicationId"], "state"),
        ("order", saved["order"], "state"),
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
        ("outboundCallbackUrl", saved["outboundCallbackUrl"] or callback_url, "default"),
        ("legacyApplication", "false", "default"),
        ("from", numbers[0] if numbers else "", "state"),
        ("to", to, "argument" if to and to != SANDBOX_TO else "default"),
        ("campaignId", saved["campaignId"] or (SANDBOX_CAMPAIGN if sandbox else ""),
         "state" if saved["campaignId"] else "default"),
        ("tnOptionOrder", saved["tnOptionOrder"], "state"),
    ]
    out = [Variable(key, _str(value), "secret" if key in SECRET_KEYS else "default",
                    _DESCRIPTIONS.get(key, ""), source) for key, value, source in rows]
    for i, number in enumerate(numbers, 1):
        out.append(Variable(f"number{i}", number, "default", f"saved number {i}", "state"))
    return out


def environment_variables(config: Any = None, state: Any = None, *, include_secrets: bool = False,
                          masked: bool = True, to: str | None = None,
                          callback_url: str | None = None) -> list[dict[str, Any]]:
    """The environment's variables as rows ``{key, value, type, enabled, description, source}`` for previews.

    Secret values are masked (``********rd``) unless ``masked=False``; with ``include_secrets=False`` (the
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


def environment_frame(config: Any = None, state: Any = None, **kwargs: Any) -> Any:
    """:func:`environment_variables` as a pandas DataFrame (secrets masked) for notebooks."""
    import pandas as pd

    return pd.DataFrame(environment_variables(config, state, **kwargs),
                        columns=["key", "value", "type", "enabled", "set", "source", "description"])


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


# --------------------------------------------------------------------------- collection
_XML = [{"key": "Content-Type", "value": "application/xml; charset=utf-8"}]
_JSON = [{"key": "Content-Type", "value": "application/json; charset=utf-8"}]


def _basic(user: str, password: str) -> dict[str, Any]:
    return {"type": "basic", "basic": [
        {"key": "username", "value": "{{%s}}" % user, "type": "string"},
        {"key": "password", "value": "{{%s}}" % password, "type": "string"},
    ]}


def _bearer(token: str = "accessToken") -> dict[str, Any]:
    return {"type": "bearer", "bearer": [{"key": "token", "value": "{{%s}}" % token, "type": "string"}]}


def _url(base_var: str, *segments: str) -> dict[str, Any]:
    return {"raw": "{{%s}}/%s" % (base_var, "/".join(segments)), "host": ["{{%s}}" % base_var],
            "path": list(segments)}


def _status_test(code: int, reason: str) -> list[str]:
    return [
        f'pm.test("status is {code} {reason}", function () {{',
        f"    pm.response.to.have.status({code});",
        "});",
    ]


_STOP_IF_FAILED = [
    "// pm.execution.setNextRequest (Postman 10.x+, newman 6) with a fallback to the older postman.setNextRequest",
    "function next(name) {",
    "    if (pm.execution && typeof pm.execution.setNextRequest === \"function\") { pm.execution.setNextRequest(name); }",
    "    else { postman.setNextRequest(name); }",
    "}",
    "// stop the run here if this step failed: every later step needs what it saves",
    "function stop(why) { console.log(\"stopping: \" + why); next(null); }",
]

_XML_TEXT = [
    "function xmlText(body, tag) {",
    "    var m = new RegExp(\"<\" + tag + \">\\\\s*([^<]*?)\\\\s*</\" + tag + \">\", \"i\").exec(body);",
    "    return m ? m[1] : null;",
    "}",
]


def _test(lines: Iterable[str]) -> list[dict[str, Any]]:
    return [{"listen": "test", "script": {"type": "text/javascript", "exec": list(lines)}}]


def _prerequest(lines: Iterable[str]) -> dict[str, Any]:
    return {"listen": "prerequest", "script": {"type": "text/javascript", "exec": list(lines)}}


def _item(name: str, method: str, url: dict[str, Any] | str, *, auth: dict[str, Any], headers: list[dict[str, str]],
          body: str | None, language: str, tests: list[str], description: str,
          prerequest: list[str] | None = None, form: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    request: dict[str, Any] = {"method": method, "header": [dict(h) for h in headers], "url": url, "auth": auth,
                               "description": description}
    if form is not None:
        request["body"] = {"mode": "urlencoded",
                           "urlencoded": [{"key": k, "value": v, "type": "text"} for k, v in form]}
    elif body is not None:
        request["body"] = {"mode": "raw", "raw": body, "options": {"raw": {"language": language}}}
    events = ([_prerequest(prerequest)] if prerequest else []) + _test(tests)
    return {"id": str(uuid.uuid5(_NAMESPACE, f"item:{name}")), "name": name, "event": events, "request": request,
            "response": []}


def _folder(name: str, description: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"name": name, "description": description, "item": items}


#: Step 1 with today's application fields (numbers.yml CreateApplication, messaging example)
BODY_APPLICATION = """<Application>
  <ServiceType>Messaging-V2</ServiceType>
  <AppName>Demo Server {{$timestamp}}</AppName>
  <InboundCallbackUrl>{{inboundCallbackUrl}}</InboundCallbackUrl>
  <OutboundCallbackUrl>{{outboundCallbackUrl}}</OutboundCallbackUrl>
  <RequestedCallbackTypes>
    <CallbackType>message-delivered</CallbackType>
    <CallbackType>message-failed</CallbackType>
  </RequestedCallbackTypes>
</Application>"""

# The guide's bodies (Bandwidth/v2-messaging apisetup.md), with {{variables}} for the values a user changes.
BODY_APPLICATION_LEGACY = """<Application>
  <AppName>Demo Server {{$timestamp}}</AppName>
  <CallbackUrl>{{callbackUrl}}</CallbackUrl>
  <CallbackCreds/>
</Application>"""

BODY_LOCATION = """<SipPeer>
  <PeerName>Bandwidth Messaging 2 test2 {{$timestamp}}</PeerName>
  <IsDefaultPeer>true</IsDefaultPeer>
</SipPeer>"""

BODY_SMS = """<SipPeerSmsFeature>
  <SipPeerSmsFeatureSettings>
    <TollFree>true</TollFree>
    <ShortCode>true</ShortCode>
    <Protocol>HTTP</Protocol>
    <Zone1>true</Zone1>
    <Zone2>false</Zone2>
    <Zone3>false</Zone3>
    <Zone4>false</Zone4>
    <Zone5>false</Zone5>
  </SipPeerSmsFeatureSettings>
  <HttpSettings>
    <ProxyPeerId>539692</ProxyPeerId>
  </HttpSettings>
</SipPeerSmsFeature>"""

BODY_MMS = """<MmsFeature>
  <MmsSettings>
    <protocol>HTTP</protocol>
  </MmsSettings>
  <Protocols>
    <HTTP>
      <HttpSettings>
        <ProxyPeerId>539692</ProxyPeerId>
      </HttpSettings>
    </HTTP>
  </Protocols>
</MmsFeature>"""

BODY_ASSIGN = """<ApplicationsSettings>
  <HttpMessagingV2AppId>{{applicationId}}</HttpMessagingV2AppId>
</ApplicationsSettings>"""

BODY_ORDER = """<Order>
  <AreaCodeSearchAndOrderType>
    <AreaCode>910</AreaCode>
    <Quantity>1</Quantity>
  </AreaCodeSearchAndOrderType>
  <SiteId>{{subaccount}}</SiteId>
  <PeerId>{{location}}</PeerId>
</Order>"""

BODY_MESSAGE = """{
  "from"          : "{{from}}",
  "to"            : "{{to}}",
  "text"          : "Good morning, this is a test message",
  "applicationId" : "{{applicationId}}"
}"""

_P = ["accounts", "{{account}}", "sites", "{{subaccount}}", "sippeers", "{{location}}"]

#: (folder, request name) in the guide's order; the request names are what setNextRequest refers to.
#: step key -> (folder label, request name); the numbers come from bwhelpers.steps
_REQUESTS: tuple[tuple[str, str, str], ...] = (
    ("application", "Create application", "Create application"),
    ("location", "Create location (sippeer)", "Create location (sippeer)"),
    ("sms", "Enable SMS on location", "Enable SMS on location"),
    ("mms", "Enable MMS on location", "Enable MMS on location"),
    ("assigned", "Assign application to location", "Assign application to location"),
    ("orders", "Order numbers", "Order available numbers"),
    ("numbers", "Check order status", "Check order status"),
    ("a2p", "Register for A2P (10DLC campaign)", "Assign number to 10DLC campaign"),
    ("messages", "Send text message", "Send text message"),
)
#: the second request of the A2P folder (polls the TN Option Order)
TN_OPTION_CHECK = "Check TN Option Order"

BODY_TN_OPTION = """<TnOptionOrder>
  <TnOptionGroups>
    <TnOptionGroup>
      <Sms>on</Sms>
      <A2pSettings>
        <Action>asSpecified</Action>
        <CampaignId>{{campaignId}}</CampaignId>
        <MessageClass>M</MessageClass>
      </A2pSettings>
      <TelephoneNumbers>
        <TelephoneNumber>{{from}}</TelephoneNumber>
      </TelephoneNumbers>
    </TnOptionGroup>
  </TnOptionGroups>
</TnOptionOrder>"""
#: (folder name, request name) per collection folder, in order
STEPS: tuple[tuple[str, str], ...] = tuple(
    (f"{steps.step(key).number} {folder}", request) for key, folder, request in _REQUESTS
) + ((f"{steps.step('messages').number}b legacy endpoint", "Send text message (legacy endpoint)"),
     (f"{steps.step('application').number}b legacy CallbackUrl", "Create application (legacy CallbackUrl)"))


def _token_folder() -> dict[str, Any]:
    """The first request: OAuth 2.0 client credentials; its test stores {{accessToken}} for every later request."""
    return _folder(TOKEN_FOLDER, "Get an OAuth 2.0 access token with your API credentials (Bandwidth App > Account > "
                   "API Credentials): `POST {{tokenUrl}}` with Basic `{{clientId}}:{{clientSecret}}` and the form "
                   "body `grant_type=client_credentials`. The test stores the answer's `access_token` as "
                   "`{{accessToken}}`, which every later request sends as `Authorization: Bearer`. (Postman's own "
                   "OAuth 2.0 helper is not used because newman does not fetch tokens.) Tokens last `expires_in` "
                   "seconds (3600 on the real service); re-run this request when one expires.",
                   [_item(TOKEN_REQUEST, "POST", "{{tokenUrl}}",
                          auth=_basic("clientId", "clientSecret"),
                          headers=[{"key": "Content-Type", "value": "application/x-www-form-urlencoded"}],
                          body=None, language="text", form=[("grant_type", "client_credentials")],
                          description="OAuth 2.0 client credentials grant (RFC 6749 §4.4), as Bandwidth documents it.",
                          tests=[*_STOP_IF_FAILED, *_status_test(200, "OK"),
                                 "var json = {};",
                                 "try { json = pm.response.json(); } catch (e) { json = {}; }",
                                 'pm.test("an access token of type bearer", function () {',
                                 '    pm.expect(json.access_token, "access_token").to.be.a("string").and.not.be.empty;',
                                 '    pm.expect(String(json.token_type).toLowerCase()).to.eql("bearer");',
                                 "});",
                                 "if (json.access_token) { pm.environment.set(\"accessToken\", json.access_token); }",
                                 "else { stop(\"no access token: check clientId / clientSecret / tokenUrl\"); }"])])


def _steps(auth: str = "oauth") -> list[dict[str, Any]]:
    dash = _bearer() if auth == "oauth" else _basic("user", "password")
    folders: list[dict[str, Any]] = [_token_folder()] if auth == "oauth" else []

    def add(step: int, folder_description: str, item: dict[str, Any]) -> None:
        folder, _ = STEPS[step]
        if auth == "oauth":
            folder_description = folder_description.replace(
                "with the Dashboard API user's username:password", "with the Bearer {{accessToken}}")
        folders.append(_folder(folder, folder_description, [item]))

    app_tests = [*_STOP_IF_FAILED, *_XML_TEXT, *_status_test(201, "Created"),
                 "var applicationId = xmlText(pm.response.text(), \"ApplicationId\");",
                 'pm.test("ApplicationId in the response body", function () {',
                 "    pm.expect(applicationId, \"<ApplicationId>\").to.be.a(\"string\").and.not.be.empty;",
                 "});",
                 "if (pm.response.code === 201 && applicationId) {",
                 "    pm.environment.set(\"applicationId\", applicationId);",
                 "} else { stop(\"no application\"); }"]
    add(0, "Save the Application Id after creating the application. Today's applications have two callback URLs: "
           "`InboundCallbackUrl` receives incoming messages, `OutboundCallbackUrl` the delivery receipts chosen in "
           "`RequestedCallbackTypes`. (The guide's single `CallbackUrl` is in folder 1b.)",
        _item(STEPS[0][1], "POST", _url("dashboardUrl", "accounts", "{{accountId}}", "applications"),
              auth=dash, headers=_XML, body=BODY_APPLICATION, language="xml",
              description="Guide step 1 with today's fields (Bandwidth's current docs). `AppName` gets a "
                          "`{{$timestamp}}` suffix so the collection can be run again on the same account. The "
                          "test saves `applicationId` from the `<ApplicationId>` of the "
                          "`ApplicationProvisioningResponse`.",
              tests=app_tests))
    add(1, "Save the location (sippeer) id from the `Location` header. A location is a logical grouping of "
           "numbers.",
        _item(STEPS[1][1], "POST", _url("dashboardUrl", "accounts", "{{account}}", "sites", "{{subaccount}}",
                                        "sippeers"),
              auth=dash, headers=_XML, body=BODY_LOCATION, language="xml",
              description="Guide step 2. The response has no body; the test saves `location` from the last "
                          "segment of the `Location` header. `PeerName` gets a `{{$timestamp}}` suffix so reruns "
                          "do not collide.",
              tests=[*_STOP_IF_FAILED, *_status_test(201, "Created"),
                     "var header = pm.response.headers.get(\"Location\") || \"\";",
                     "var location = header.replace(/[?#].*$/, \"\").replace(/\\/+$/, \"\").split(\"/\").pop();",
                     'pm.test("Location header ends with the new location id", function () {',
                     "    pm.expect(header, \"Location header\").to.match(/\\/sippeers\\/[^\\/]+\\/?$/);",
                     "});",
                     "if (pm.response.code === 201 && location) {",
                     "    pm.environment.set(\"location\", location);",
                     "} else { stop(\"no location\"); }"]))
    add(2, "Enable SMS on the location: Protocol HTTP, Zone1 true, Zone2-5 false, ProxyPeerId 539692.",
        _item(STEPS[2][1], "POST", _url("dashboardUrl", *_P, "products", "messaging", "features", "sms"),
              auth=dash, headers=_XML, body=BODY_SMS, language="xml",
              description="Guide step 3 (body exactly as in the guide).",
              tests=[*_STOP_IF_FAILED, *_XML_TEXT, *_status_test(201, "Created"),
                     'pm.test("SMS feature echoed with Protocol HTTP", function () {',
                     "    pm.expect(xmlText(pm.response.text(), \"Protocol\")).to.eql(\"HTTP\");",
                     "});",
                     "if (pm.response.code !== 201) { stop(\"SMS not enabled\"); }"]))
    add(3, "Enable MMS on the location (note the lower-case `protocol`).",
        _item(STEPS[3][1], "POST", _url("dashboardUrl", *_P, "products", "messaging", "features", "mms"),
              auth=dash, headers=_XML, body=BODY_MMS, language="xml",
              description="Guide step 4 (body exactly as in the guide).",
              tests=[*_STOP_IF_FAILED, *_status_test(201, "Created"),
                     'pm.test("MMS feature echoed", function () {',
                     "    pm.expect(pm.response.text()).to.include(\"MmsFeature\");",
                     "});",
                     "if (pm.response.code !== 201) { stop(\"MMS not enabled\"); }"]))
    add(4, "Assign the application created in step 1 to the location.",
        _item(STEPS[4][1], "PUT", _url("dashboardUrl", *_P, "products", "messaging", "applicationSettings"),
              auth=dash, headers=_XML, body=BODY_ASSIGN, language="xml",
              description="Guide step 5, with `{{applicationId}}` saved by step 1.",
              tests=[*_STOP_IF_FAILED, *_XML_TEXT, *_status_test(200, "OK"),
                     'pm.test("the location now uses {{applicationId}}", function () {',
                     "    pm.expect(xmlText(pm.response.text(), \"HttpMessagingV2AppId\"))"
                     ".to.eql(pm.environment.get(\"applicationId\"));",
                     "});",
                     "if (pm.response.code !== 200) { stop(\"application not assigned\"); }"]))
    add(5, "Order one number in area code 910 for the sub-account and location. Save the Order Id.",
        _item(STEPS[5][1], "POST", _url("dashboardUrl", "accounts", "{{account}}", "orders"),
              auth=dash, headers=_XML, body=BODY_ORDER, language="xml",
              description="Guide step 6. The test saves `order` from the response's `<id>` and resets the "
                          "order-status poll counter.",
              tests=[*_STOP_IF_FAILED, *_XML_TEXT, *_status_test(201, "Created"),
                     "var order = xmlText(pm.response.text(), \"id\");",
                     'pm.test("order id in the response body", function () {',
                     "    pm.expect(order, \"<id>\").to.be.a(\"string\").and.not.be.empty;",
                     "});",
                     "pm.collectionVariables.set(\"orderPollCount\", \"0\");",
                     "if (pm.response.code === 201 && order) {",
                     "    pm.environment.set(\"order\", order);",
                     "} else { stop(\"no order\"); }"]))
    add(6, "Check the order until `<OrderStatus>COMPLETE</OrderStatus>`: the request repeats itself (up to "
           "`orderPollMax` times, `orderPollDelayMs` apart) while the order is RECEIVED.",
        _item(STEPS[6][1], "GET", _url("dashboardUrl", "accounts", "{{account}}", "orders", "{{order}}"),
              auth=dash, headers=_XML, body=None, language="xml",
              description="Guide step 7. While the status is RECEIVED the test calls "
                          "`pm.execution.setNextRequest(\"Check order status\")`; at COMPLETE it saves the first "
                          "`CompletedNumbers` number as `orderedNumber` and `from` (E.164).",
              prerequest=[
                  "// wait between checks (not before the first one)",
                  "var count = parseInt(pm.collectionVariables.get(\"orderPollCount\") || \"0\", 10);",
                  "var delay = parseInt(pm.variables.get(\"orderPollDelayMs\") || \"%d\", 10);"
                  % ORDER_POLL_DELAY_MS,
                  "if (count > 0 && delay > 0) { setTimeout(function () {}, delay); }",
              ],
              tests=[*_STOP_IF_FAILED, *_XML_TEXT, *_status_test(200, "OK"),
                     "var body = pm.response.text();",
                     "var status = xmlText(body, \"OrderStatus\");",
                     "var count = parseInt(pm.collectionVariables.get(\"orderPollCount\") || \"0\", 10) + 1;",
                     "var max = parseInt(pm.variables.get(\"orderPollMax\") || \"%d\", 10);"
                     % ORDER_POLL_MAX,
                     "pm.collectionVariables.set(\"orderPollCount\", String(count));",
                     "if (pm.response.code === 200 && (status === \"RECEIVED\" || status === \"PROCESSING\")"
                     " && count < max) {",
                     "    console.log(\"order \" + pm.environment.get(\"order\") + \" is \" + status + "
                     "\" (check \" + count + \" of \" + max + \"), checking again\");",
                     "    next(\"%s\");" % STEPS[6][1],
                     "} else {",
                     "    pm.test(\"order is COMPLETE (after \" + count + \" check(s))\", function () {",
                     "        pm.expect(status, \"OrderStatus\").to.eql(\"COMPLETE\");",
                     "    });",
                     "    var completed = (/<CompletedNumbers>([\\s\\S]*?)<\\/CompletedNumbers>/i.exec(body) || [])[1]"
                     " || \"\";",
                     "    var number = xmlText(completed, \"FullNumber\");",
                     "    pm.test(\"the ordered number is in CompletedNumbers\", function () {",
                     "        pm.expect(number, \"CompletedNumbers/TelephoneNumber/FullNumber\").to.be.a(\"string\")"
                     ".and.not.be.empty;",
                     "    });",
                     "    if (status === \"COMPLETE\" && number) {",
                     "        var digits = number.replace(/\\D/g, \"\");",
                     "        var e164 = digits.length === 10 ? \"+1\" + digits : \"+\" + digits;",
                     "        pm.environment.set(\"orderedNumber\", e164);",
                     "        pm.environment.set(\"from\", e164);",
                     "    } else { stop(\"order not COMPLETE: \" + status); }",
                     "}"]))
    folders.append(_folder(STEPS[7][0], "Today's step between the order and the send: US carriers deliver "
                           "application-to-person texts from a local number only when it is assigned to a "
                           "REGISTERED 10DLC campaign (else message-failed 4476). A TN Option Order assigns "
                           "`{{from}}` to `{{campaignId}}` (`band tnoption assign`); the next request polls it until "
                           "COMPLETE. The brand and campaign are registered beforehand in the Bandwidth App (days); "
                           "the sandbox has a pre-registered campaign, CSBX001.", [
        _item(STEPS[7][1], "POST", _url("dashboardUrl", "accounts", "{{account}}", "tnoptions"),
              auth=dash, headers=_XML, body=BODY_TN_OPTION, language="xml",
              description="Not in the 2018 guide. The test saves `tnOptionOrder` from `<OrderId>`.",
              tests=[*_STOP_IF_FAILED, *_XML_TEXT, *_status_test(201, "Created"),
                     "var tnOption = xmlText(pm.response.text(), \"OrderId\");",
                     'pm.test("TN Option Order id in the response body", function () {',
                     "    pm.expect(tnOption, \"<OrderId>\").to.be.a(\"string\").and.not.be.empty;",
                     "});",
                     "pm.collectionVariables.set(\"orderPollCount\", \"0\");",
                     "if (pm.response.code === 201 && tnOption) {",
                     "    pm.environment.set(\"tnOptionOrder\", tnOption);",
                     "} else { stop(\"no TN Option Order (is campaignId a REGISTERED campaign?)\"); }"]),
        _item(TN_OPTION_CHECK, "GET", _url("dashboardUrl", "accounts", "{{account}}", "tnoptions", "{{tnOptionOrder}}"),
              auth=dash, headers=_XML, body=None, language="xml",
              description="Repeats itself while `<ProcessingStatus>` is RECEIVED or PROCESSING (like the order "
                          "check); at COMPLETE the number is SUCCESS on the campaign.",
              prerequest=[
                  "var count = parseInt(pm.collectionVariables.get(\"orderPollCount\") || \"0\", 10);",
                  "var delay = parseInt(pm.variables.get(\"orderPollDelayMs\") || \"%d\", 10);"
                  % ORDER_POLL_DELAY_MS,
                  "if (count > 0 && delay > 0) { setTimeout(function () {}, delay); }",
              ],
              tests=[*_STOP_IF_FAILED, *_XML_TEXT, *_status_test(200, "OK"),
                     "var body = pm.response.text();",
                     "var status = xmlText(body, \"ProcessingStatus\");",
                     "var count = parseInt(pm.collectionVariables.get(\"orderPollCount\") || \"0\", 10) + 1;",
                     "var max = parseInt(pm.variables.get(\"orderPollMax\") || \"%d\", 10);" % ORDER_POLL_MAX,
                     "pm.collectionVariables.set(\"orderPollCount\", String(count));",
                     "if (pm.response.code === 200 && (status === \"RECEIVED\" || status === \"PROCESSING\")"
                     " && count < max) {",
                     "    next(\"%s\");" % TN_OPTION_CHECK,
                     "} else {",
                     "    pm.test(\"TN Option Order is COMPLETE (after \" + count + \" check(s))\", function () {",
                     "        pm.expect(status, \"ProcessingStatus\").to.eql(\"COMPLETE\");",
                     "    });",
                     "    if (status !== \"COMPLETE\") { stop(\"TN Option Order not COMPLETE: \" + status + "
                     "\" \" + (xmlText(body, \"Description\") || \"\")); }",
                     "}"]),
    ]))
    send_tests = [*_status_test(202, "Accepted"),
                  "var json = {};",
                  "try { json = pm.response.json(); } catch (e) { json = {}; }",
                  'pm.test("accepted with a message id, from the ordered number, for the application", function () {',
                  "    pm.expect(json.id, \"id\").to.be.a(\"string\").and.not.be.empty;",
                  "    pm.expect(json.from).to.eql(pm.environment.get(\"from\"));",
                  "    pm.expect(json.applicationId).to.eql(pm.environment.get(\"applicationId\"));",
                  "});",
                  "if (json.id) { pm.environment.set(\"messageId\", json.id); }"]
    add(8, "Send a text message from the ordered number with the current Messaging API: "
           "`POST {{messagingUrl}}/users/{{accountId}}/messages` with the Dashboard API user's "
           "username:password. The guide (2018) used the now-retired "
           "`POST {{legacyMessagingUrl}}/users/{{userId}}/messages` with token:secret; that request is in folder "
           f"{steps.step('messages').number}b. Messages are sent asynchronously: 202 means accepted, delivery is reported by callback.",
        _item(STEPS[8][1], "POST", _url("messagingUrl", "users", "{{accountId}}", "messages"),
              auth=dash, headers=_JSON, body=BODY_MESSAGE, language="json",
              description="Guide step 8 on the current endpoint. `{{to}}` must be a number you may text.",
              tests=send_tests))
    add(9, "The guide's original send request: `{{legacyMessagingUrl}}/users/{{userId}}/messages` with "
           "token:secret (Catapult-era API). It is skipped when `token` or `userId` is empty.",
        _item(STEPS[9][1], "POST", _url("legacyMessagingUrl", "users", "{{userId}}", "messages"),
              auth=_basic("token", "secret"), headers=_JSON, body=BODY_MESSAGE, language="json",
              description="Guide step 8 exactly as written in 2018 (token:secret).",
              prerequest=[
                  "if (!pm.environment.get(\"token\") || !pm.environment.get(\"userId\")) {",
                  "    console.log(\"no legacy token/userId: skipping the legacy send\");",
                  "    pm.execution.skipRequest();",
                  "}",
              ],
              tests=send_tests))
    add(10, "The guide's step 1 as written in 2018: one `CallbackUrl` for every event (deprecated; it never mixes "
           "with InboundCallbackUrl/OutboundCallbackUrl: 13065). Skipped unless `legacyApplication` is `true`; "
           "when it runs, it replaces `applicationId` (run it before folder 2 to walk the guide's way).",
        _item(STEPS[10][1], "POST", _url("dashboardUrl", "accounts", "{{accountId}}", "applications"),
              auth=dash, headers=_XML, body=BODY_APPLICATION_LEGACY, language="xml",
              description="Guide step 1 exactly as written (legacy CallbackUrl).",
              prerequest=[
                  "if (pm.environment.get(\"legacyApplication\") !== \"true\") {",
                  "    console.log(\"legacyApplication is not true: skipping the guide's CallbackUrl application\");",
                  "    pm.execution.skipRequest();",
                  "}",
              ],
              tests=app_tests))
    return folders


def build_collection(name: str = COLLECTION_NAME, auth: str = "oauth") -> dict[str, Any]:
    """The Postman Collection v2.1.0 document (a dict), without writing it. Deterministic for a given name.

    ``auth="oauth"`` (default): a "Get access token" request first, then Bearer ``{{accessToken}}`` everywhere;
    ``auth="basic"``: the guide's original username:password (the legacy API user; refused by the real service
    after 2026-12-02). The guide's token:secret request (folder 8b) is in both."""
    if auth not in ("oauth", "basic"):
        raise ValueError(f"auth: {auth!r}; use 'oauth' (API credentials) or 'basic' (legacy API user)")
    how = ("Authentication: the first request, *Get access token*, trades `{{clientId}}`/`{{clientSecret}}` "
           "(API credentials) for an OAuth 2.0 token and stores it as `{{accessToken}}`; every other request "
           "sends `Authorization: Bearer {{accessToken}}`.\n\n" if auth == "oauth" else
           "Authentication: the legacy API user's username:password (`{{user}}`/`{{password}}`, HTTP Basic), as "
           "in the guide. The real service refuses API users after 2026-12-02; export the default collection "
           "(API credentials) for a real account.\n\n")
    description = how + (
        "The requests of Bandwidth's *Messaging 2.0 API Setup* guide, in its order, generated by bwhelpers "
        f"{_version()}. Use it with the environment exported by `python -m bwhelpers postman` (or "
        "`bwhelpers.postman.export_environment()`), which holds your credentials and the saved IDs.\n\n"
        "Each request's tests check the status code and save what the next step needs with "
        "`pm.environment.set`: `applicationId` (step 1 body), `location` (step 2 `Location` header), `order` "
        "(step 6 `<id>`), then `orderedNumber`/`from` (step 7 `CompletedNumbers`) and `tnOptionOrder` (step 8, the A2P "
        "registration today's carriers require). Steps 7 and 8 repeat until the "
        f"order is COMPLETE (at most `orderPollMax` = {ORDER_POLL_MAX} checks, `orderPollDelayMs` = "
        f"{ORDER_POLL_DELAY_MS} ms apart). The whole collection runs in one go: "
        "`newman run collection.json -e environment.json`.\n\n"
        "Differences from the guide: `AppName` and `PeerName` get a `{{$timestamp}}` suffix so the collection "
        "can be re-run; step 1 uses today's fields (`InboundCallbackUrl` `{{inboundCallbackUrl}}`, "
        "`OutboundCallbackUrl` `{{outboundCallbackUrl}}`, `RequestedCallbackTypes`), and the guide's "
        "`CallbackUrl` (`{{callbackUrl}}`) request is in folder 1b, skipped unless `legacyApplication` is "
        "`true`; the message is sent with the current endpoint "
        "`{{messagingUrl}}/users/{{accountId}}/messages` and, in folder "
        f"{steps.step('messages').number}b, with the "
        "guide's legacy endpoint `{{legacyMessagingUrl}}/users/{{userId}}/messages` (token:secret).\n\n"
        "Running it against a real account creates a real application and location and orders (and pays for) "
        "a real number."
    )
    return {
        "info": {
            "_postman_id": str(uuid.uuid5(_NAMESPACE, f"collection:{name}")),
            "name": name,
            "description": description,
            "schema": COLLECTION_SCHEMA,
        },
        "item": _steps(auth),
        "variable": [
            {"key": "orderPollMax", "value": str(ORDER_POLL_MAX), "type": "string"},
            {"key": "orderPollDelayMs", "value": str(ORDER_POLL_DELAY_MS), "type": "string"},
            {"key": "orderPollCount", "value": "0", "type": "string"},
        ],
    }


def export_collection(out_dir: str | os.PathLike[str] = DEFAULT_OUT_DIR, name: str = COLLECTION_NAME,
                      auth: str = "oauth") -> Path:
    """Write ``<out_dir>/<name>.postman_collection.json`` (Collection v2.1.0) and return its path."""
    return _write_json(Path(out_dir) / f"{_filename(name)}.postman_collection.json", build_collection(name, auth))


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
        environment = export_environment(out_dir=args.out, name=args.name, include_secrets=args.include_secrets,
                                         to=args.to)
    except Exception as exc:  # configuration problems: say what and how to fix, no traceback
        print(f"error: cannot export the environment: {exc}", file=sys.stderr)
        return 1
    print(f"environment: {environment}")
    values = {v["key"]: v["value"] for v in json.loads(environment.read_text(encoding="utf-8"))["values"]}
    if "127.0.0.1" in values.get("dashboardUrl", "") or "localhost" in values.get("dashboardUrl", ""):
        print(f"target: the local sandbox at {values['dashboardUrl'][:-4]} - keep it running "
              "(python -m bwhelpers sandbox) while Postman/newman use this environment")
    if args.include_secrets:
        print("warning: the environment contains your client secret, password, token and secret - do not commit "
              "or share it", file=sys.stderr)
    else:
        first = "password=..." if args.legacy_basic else "clientSecret=..."
        print("secrets are empty (type secret): fill them in Postman, or run newman with "
              f"--env-var {first} [--env-var token=... --env-var secret=...]")
    fill = "" if args.include_secrets else (" --env-var password=..." if args.legacy_basic else " --env-var clientSecret=...")
    print(f'run: npx newman run "{collection}" -e "{environment}"{fill}')
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(cli())
