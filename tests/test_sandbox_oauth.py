"""The sandbox's OAuth 2.0 client credentials: the token endpoint, Bearer on every Dashboard and Messaging
endpoint, 401/403 in each API's shape, roles, per-account API credentials, and the legacy_basic_auth and
token_ttl_seconds settings. Everything over HTTP against the session sandbox."""
from __future__ import annotations

import base64
import json
import time
from typing import Any, Iterator

import jwt
import pytest
import requests
from conftest import SMS_BODY, SandboxClock, XmlSession, reset

from bwhelpers.sandbox import DEMO, DEMO_B
from conftest import control

TIMEOUT = 10
APP_ID = "05851417-c78b-4636-81a2-014a54d8f119"


@pytest.fixture(autouse=True)
def _restore(sandbox: Any) -> Iterator[None]:
    """Tests here change settings and credentials of the session sandbox: reset it afterwards."""
    yield
    reset(sandbox.url)


def token_url(sb: Any) -> str:
    return f"{sb.url}/api/v1/oauth2/token"


def get_token(sb: Any, client_id: str = DEMO["client_id"], secret: str = DEMO["client_secret"]) -> dict[str, Any]:
    r = requests.post(token_url(sb), auth=(client_id, secret), data={"grant_type": "client_credentials"},
                      timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    return r.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def bearer_session(sb: Any, creds: dict[str, str] = DEMO) -> XmlSession:
    """An XmlSession that sends only Bearer (no Basic)."""
    s = XmlSession(sb.url, creds)
    s.http.auth = None
    s.http.headers.update(bearer(get_token(sb, creds["client_id"], creds["client_secret"])["access_token"]))
    return s


def settings(sb: Any, **values: Any) -> None:
    r = control(sb.url, "PUT", "/_sandbox/settings", json=values, timeout=TIMEOUT)
    assert r.status_code == 200, r.text


def add_credential(sb: Any, client_id: str, secret: str, roles: list[str], account: str = DEMO["account_id"]) -> None:
    r = control(sb.url, "POST", "/_sandbox/credentials", json={"account_id": account, "client_id": client_id,
                                                            "client_secret": secret, "roles": roles}, timeout=TIMEOUT)
    assert r.status_code == 201, r.text


def dash_error(r: requests.Response) -> tuple[str, str]:
    body = XmlSession.xml(r)["ErrorResponse"]["ResponseStatus"]
    return body["ErrorCode"], body["Description"]


# -- the token endpoint ----------------------------------------------------------------------------

def test_token_endpoint_answers_a_signed_jwt_with_the_documented_claims(clean_sandbox: Any) -> None:
    r = requests.post(token_url(clean_sandbox), auth=(DEMO["client_id"], DEMO["client_secret"]),
                      data={"grant_type": "client_credentials"}, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.headers["Cache-Control"] == "no-store"
    body = r.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "HS256"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["accounts"] == [DEMO["account_id"]]
    assert claims["roles"] == ["Messaging", "Numbers"]
    assert claims["exp"] - claims["iat"] == 3600 and abs(claims["iat"] - time.time()) < 60
    assert claims["sub"] == DEMO["client_id"] and claims["express"] is False
    # account B's credential covers account B only
    other = jwt.decode(get_token(clean_sandbox, DEMO_B["client_id"], DEMO_B["client_secret"])["access_token"],
                       options={"verify_signature": False})
    assert other["accounts"] == [DEMO_B["account_id"]]
    # the signing key is the sandbox's own: a token is not verifiable with a guessable key
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(body["access_token"], "s" * 32, algorithms=["HS256"])


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


FORM = "application/x-www-form-urlencoded"
GOOD = _basic(DEMO["client_id"], DEMO["client_secret"])


@pytest.mark.parametrize("name, headers, body, status, error, words", [
    ("wrong-secret", {"Authorization": _basic(DEMO["client_id"], "nope"), "Content-Type": FORM},
     "grant_type=client_credentials", 401, "invalid_client", "wrong Client Secret"),
    ("unknown-client", {"Authorization": _basic("who", "nope"), "Content-Type": FORM},
     "grant_type=client_credentials", 401, "invalid_client", "unknown Client ID"),
    ("api-user-instead", {"Authorization": _basic(DEMO["username"], DEMO["password"]), "Content-Type": FORM},
     "grant_type=client_credentials", 401, "invalid_client", "unknown Client ID"),
    ("no-authorization", {"Content-Type": FORM}, "grant_type=client_credentials", 401, "invalid_client",
     "Authorization: Basic"),
    ("secret-in-body", {"Content-Type": FORM},
     f"grant_type=client_credentials&client_id={DEMO['client_id']}&client_secret={DEMO['client_secret']}", 401,
     "invalid_client", "not in the body"),
    ("malformed-basic", {"Authorization": "Basic !!!", "Content-Type": FORM}, "grant_type=client_credentials",
     401, "invalid_client", "Authorization: Basic"),
    ("bearer-for-token", {"Authorization": "Bearer abc", "Content-Type": FORM}, "grant_type=client_credentials",
     401, "invalid_client", "Bearer token cannot"),
    ("wrong-grant", {"Authorization": GOOD, "Content-Type": FORM}, "grant_type=password", 400,
     "unsupported_grant_type", "client_credentials"),
    ("no-grant", {"Authorization": GOOD, "Content-Type": FORM}, "scope=x", 400, "invalid_request", "grant_type"),
    ("empty-body", {"Authorization": GOOD, "Content-Type": FORM}, "", 400, "invalid_request", "grant_type"),
    ("grant-twice", {"Authorization": GOOD, "Content-Type": FORM},
     "grant_type=client_credentials&grant_type=client_credentials", 400, "invalid_request", "more than once"),
    ("json-body", {"Authorization": GOOD, "Content-Type": "application/json"},
     '{"grant_type": "client_credentials"}', 400, "invalid_request", FORM),
])
def test_token_endpoint_errors_follow_rfc6749(clean_sandbox: Any, name: str, headers: dict[str, str], body: str,
                                              status: int, error: str, words: str) -> None:
    r = requests.post(token_url(clean_sandbox), headers=headers, data=body, timeout=TIMEOUT)
    assert r.status_code == status, (name, r.text)
    doc = r.json()
    assert doc["error"] == error and words in doc["error_description"], (name, doc)
    assert r.headers["Cache-Control"] == "no-store"
    if status == 401:
        assert r.headers["WWW-Authenticate"].startswith("Basic")
    assert "access_token" not in doc


def test_token_endpoint_refuses_other_methods_in_its_own_shape(clean_sandbox: Any) -> None:
    r = requests.get(token_url(clean_sandbox), auth=(DEMO["client_id"], DEMO["client_secret"]), timeout=TIMEOUT)
    assert r.status_code == 405 and r.headers["Allow"] == "POST"
    assert r.json()["error"] == "invalid_request"


def test_token_ttl_setting_sets_expires_in_and_expired_tokens_get_401(clean_sandbox: Any,
                                                                     sandbox_clock: SandboxClock) -> None:
    settings(clean_sandbox, token_ttl_seconds=60)
    sandbox_clock.freeze(at=float(int(sandbox_clock.now())))  # token times are whole seconds
    token = get_token(clean_sandbox)
    assert token["expires_in"] == 60
    claims = jwt.decode(token["access_token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 60
    assert claims["iat"] == int(sandbox_clock.now())  # issued on the sandbox's clock
    sandbox_clock.advance(59.5)
    r = requests.get(f"{clean_sandbox.url}/api/accounts/{DEMO['account_id']}/sites",
                     headers=bearer(token["access_token"]), timeout=TIMEOUT)
    assert r.status_code == 200, "a token is valid until its exp"
    sandbox_clock.advance(1)
    r = requests.get(f"{clean_sandbox.url}/api/accounts/{DEMO['account_id']}/sites",
                     headers=bearer(token["access_token"]), timeout=TIMEOUT)
    assert r.status_code == 401
    code, text = dash_error(r)
    assert code == "401" and "expired" in text and "/api/v1/oauth2/token" in text
    assert 'error="invalid_token"' in r.headers["WWW-Authenticate"]
    r = requests.get(f"{clean_sandbox.url}/api/v2/users/{DEMO['account_id']}/messages",
                     headers=bearer(token["access_token"]), timeout=TIMEOUT)
    assert r.status_code == 401 and r.json() == {"type": "unauthorized", "description": "Authentication Failed"}
    assert "expired" in r.headers["WWW-Authenticate"]
    # a fresh token works again
    r = requests.get(f"{clean_sandbox.url}/api/v2/users/{DEMO['account_id']}/messages",
                     headers=bearer(get_token(clean_sandbox)["access_token"]), timeout=TIMEOUT)
    assert r.status_code == 200


@pytest.mark.parametrize("value", [0, -5, 86401, "60", 1.5, True, None])
def test_token_ttl_setting_refuses_bad_values(clean_sandbox: Any, value: Any) -> None:
    r = control(clean_sandbox.url, "PUT", "/_sandbox/settings", json={"token_ttl_seconds": value}, timeout=TIMEOUT)
    assert r.status_code == 400 and "token_ttl_seconds" in r.json()["error"]
    assert control(clean_sandbox.url, "GET", "/_sandbox/settings", timeout=TIMEOUT).json()["token_ttl_seconds"] == 3600


# -- Bearer on every endpoint ----------------------------------------------------------------------

def test_the_whole_guide_runs_with_bearer_only_while_basic_is_decommissioned(clean_sandbox: Any) -> None:
    settings(clean_sandbox, legacy_basic_auth="decommissioned")
    s = bearer_session(clean_sandbox)
    assert s.get("").status_code == 200                               # GET /accounts/{a}
    assert s.get("/sites").status_code == 200
    world = s.world()                                                 # steps 1-7 (app ... order + read back)
    assert s.get(f"/applications/{world['app']}").status_code == 200
    assert s.get(f"/applications/{world['app']}/associatedsippeers").status_code == 200
    assert s.get(s.peer_path(world["peer"]) + "/products/messaging/features/sms").status_code == 200
    assert s.get(s.peer_path(world["peer"]) + "/products/messaging/applicationSettings").status_code == 200
    assert s.get(s.peer_path(world["peer"]) + "/tns").status_code == 200
    assert s.get("/availableNumbers", params={"areaCode": "919", "quantity": 2}).status_code == 200
    assert s.get("/inserviceNumbers").status_code == 200
    assert s.get("/orders").status_code == 200
    # step 8 on the current messaging API
    url = f"{clean_sandbox.url}/api/v2/users/{DEMO['account_id']}/messages"
    r = s.http.post(url, json={"from": world["tns"][0], "to": ["+19195551212"], "text": "via OAuth",
                               "applicationId": world["app"]}, timeout=TIMEOUT)
    assert r.status_code == 202, r.text
    r = s.http.get(url, params={"messageId": r.json()["id"]}, timeout=TIMEOUT)
    assert r.status_code == 200 and r.json()["totalCount"] == 1
    # the order is recorded with the credential's client id as the user
    orders = s.xml(s.get("/orders"))["ResponseSelectWrapper"]["ListOrderIdUserIdDate"]["OrderIdUserIdDate"]
    assert orders[0]["userId"] == DEMO["client_id"]
    # and the same calls with the API user's Basic credentials are refused
    basic = XmlSession(clean_sandbox.url, DEMO)
    assert basic.get("/sites").status_code == 401


@pytest.mark.parametrize("path", ["", "/sites", "/applications", "/orders", "/inserviceNumbers"])
def test_a_token_for_another_account_gets_403_1001(clean_sandbox: Any, path: str) -> None:
    token = get_token(clean_sandbox, DEMO_B["client_id"], DEMO_B["client_secret"])["access_token"]
    r = requests.get(f"{clean_sandbox.url}/api/accounts/{DEMO['account_id']}{path}", headers=bearer(token),
                     timeout=TIMEOUT)
    assert r.status_code == 403
    assert dash_error(r) == ("1001", "Access Denied")


def test_a_token_for_another_account_gets_403_on_messaging(clean_sandbox: Any) -> None:
    token = get_token(clean_sandbox, DEMO_B["client_id"], DEMO_B["client_secret"])["access_token"]
    url = f"{clean_sandbox.url}/api/v2/users/{DEMO['account_id']}/messages"
    for r in (requests.get(url, headers=bearer(token), timeout=TIMEOUT),
              requests.post(url, headers=bearer(token), json={"to": ["+19195551212"], "from": "+19195550000",
                                                               "text": "x", "applicationId": APP_ID}, timeout=TIMEOUT)):
        assert r.status_code == 403 and r.json() == {"type": "forbidden", "description": "Access Denied"}


def _forged(claims_change: dict[str, Any] | None = None, key: str = "not-the-sandbox-key-" + "x" * 32) -> str:
    now = int(time.time())
    claims = {"iss": "bwhelpers-sandbox", "sub": DEMO["client_id"], "accounts": [DEMO["account_id"]],
              "roles": ["Messaging", "Numbers"], "iat": now, "exp": now + 600, **(claims_change or {})}
    return jwt.encode(claims, key, algorithm="HS256")


def _tampered(sb: Any) -> str:
    """A real token whose payload was edited (accounts -> B) without re-signing."""
    head, payload, sig = get_token(sb)["access_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["accounts"] = [DEMO_B["account_id"]]
    edited = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"{head}.{edited}.{sig}"


@pytest.mark.parametrize("kind", ["forged", "tampered", "garbage", "alg-none", "empty"])
def test_forged_or_malformed_tokens_get_401_in_each_apis_shape(clean_sandbox: Any, kind: str) -> None:
    token = {"forged": lambda: _forged(), "tampered": lambda: _tampered(clean_sandbox),
             "garbage": lambda: "abc.def.ghi",
             "alg-none": lambda: jwt.encode({"sub": DEMO["client_id"], "accounts": [DEMO["account_id"]],
                                             "roles": ["Messaging", "Numbers"], "iss": "bwhelpers-sandbox",
                                             "iat": int(time.time()), "exp": int(time.time()) + 600},
                                            None, algorithm="none"),
             "empty": lambda: ""}[kind]()
    header = {"Authorization": f"Bearer {token}".rstrip()}
    r = requests.get(f"{clean_sandbox.url}/api/accounts/{DEMO['account_id']}/sites", headers=header, timeout=TIMEOUT)
    assert r.status_code == 401, (kind, r.text)
    assert dash_error(r)[0] == "401" and r.headers["WWW-Authenticate"].startswith("Bearer")
    r = requests.post(f"{clean_sandbox.url}/api/v2/users/{DEMO['account_id']}/messages", headers=header,
                      json={"to": ["+19195551212"], "from": "+19195550000", "text": "x", "applicationId": APP_ID},
                      timeout=TIMEOUT)
    assert r.status_code == 401 and r.json()["type"] == "unauthorized", (kind, r.text)


def test_unknown_authorization_scheme_gets_401(clean_sandbox: Any) -> None:
    r = requests.get(f"{clean_sandbox.url}/api/accounts/{DEMO['account_id']}/sites",
                     headers={"Authorization": "Token abc"}, timeout=TIMEOUT)
    assert r.status_code == 401 and dash_error(r)[0] == "401"


def test_missing_roles_get_403_naming_the_role(clean_sandbox: Any) -> None:
    add_credential(clean_sandbox, "numbers-only", "s3cret-n", ["Numbers"])
    add_credential(clean_sandbox, "messaging-only", "s3cret-m", ["Messaging"])
    numbers = get_token(clean_sandbox, "numbers-only", "s3cret-n")["access_token"]
    messaging = get_token(clean_sandbox, "messaging-only", "s3cret-m")["access_token"]
    dash = f"{clean_sandbox.url}/api/accounts/{DEMO['account_id']}/sites"
    msgs = f"{clean_sandbox.url}/api/v2/users/{DEMO['account_id']}/messages"
    send = {"to": ["+19195551212"], "from": "+19195550000", "text": "x", "applicationId": APP_ID}

    r = requests.post(msgs, headers=bearer(numbers), json=send, timeout=TIMEOUT)
    assert r.status_code == 403 and r.json()["type"] == "forbidden"
    assert "Messaging role" in r.json()["description"]
    r = requests.get(dash, headers=bearer(messaging), timeout=TIMEOUT)
    assert r.status_code == 403
    code, text = dash_error(r)
    assert code == "1001" and "Numbers role" in text and "API Credentials" in text
    # each works where it has the role
    assert requests.get(dash, headers=bearer(numbers), timeout=TIMEOUT).status_code == 200
    assert requests.get(msgs, headers=bearer(messaging), timeout=TIMEOUT).status_code == 200


def test_a_revoked_credential_stops_its_tokens_and_lists_never_show_secrets(clean_sandbox: Any) -> None:
    add_credential(clean_sandbox, "short-lived", "revoke-me-secret", ["Messaging", "Numbers"])
    token = get_token(clean_sandbox, "short-lived", "revoke-me-secret")["access_token"]
    dash = f"{clean_sandbox.url}/api/accounts/{DEMO['account_id']}/sites"
    assert requests.get(dash, headers=bearer(token), timeout=TIMEOUT).status_code == 200
    listed = control(clean_sandbox.url, "GET", "/_sandbox/credentials", timeout=TIMEOUT)
    assert "short-lived" in listed.text and "revoke-me-secret" not in listed.text
    mine = [c for c in listed.json()["credentials"] if c["client_id"] == "short-lived"]
    assert mine == [{"client_id": "short-lived", "account_id": DEMO["account_id"], "roles": ["Messaging", "Numbers"],
                     "description": "", "tokens_issued": 1}]
    assert DEMO["client_secret"] not in listed.text
    r = control(clean_sandbox.url, "DELETE", "/_sandbox/credentials/short-lived", timeout=TIMEOUT)
    assert r.status_code == 200
    r = requests.get(dash, headers=bearer(token), timeout=TIMEOUT)
    assert r.status_code == 401 and "no longer exists" in dash_error(r)[1]
    assert control(clean_sandbox.url, "DELETE", "/_sandbox/credentials/short-lived", timeout=TIMEOUT).status_code == 404


@pytest.mark.parametrize("body, status, words", [
    ({"account_id": "9900000", "client_id": "x"}, 400, "client_secret"),
    ({"account_id": "9900000", "client_id": "x", "client_secret": "y", "roles": "Messaging"}, 400, "roles"),
    ({"account_id": "9900000", "client_id": "x", "client_secret": "y", "roles": [""]}, 400, "roles"),
    ({"account_id": "9900000", "client_id": "a:b", "client_secret": "y"}, 400, "':'"),
    ({"account_id": "nope", "client_id": "x", "client_secret": "y"}, 404, "POST /_sandbox/accounts"),
    ({"account_id": "9900000", "client_id": DEMO_B["client_id"], "client_secret": "y"}, 409, "9900001"),
])
def test_credentials_control_endpoint_refuses_bad_input(clean_sandbox: Any, body: dict[str, Any], status: int,
                                                       words: str) -> None:
    r = control(clean_sandbox.url, "POST", "/_sandbox/credentials", json=body, timeout=TIMEOUT)
    assert r.status_code == status and words in r.json()["error"], r.text
    # account B's credential is untouched
    assert get_token(clean_sandbox, DEMO_B["client_id"], DEMO_B["client_secret"])["expires_in"] == 3600


def test_post_accounts_accepts_api_credentials(clean_sandbox: Any) -> None:
    new = {"account_id": "9900042", "site_id": "9942", "username": "u42", "password": "p42", "user_id": "uid42",
           "api_token": "t42", "api_secret": "s42", "client_id": "client-42", "client_secret": "secret-42"}
    r = control(clean_sandbox.url, "POST", "/_sandbox/accounts", json=new, timeout=TIMEOUT)
    assert r.status_code == 201 and r.json()["client_id"] == "client-42" and "secret-42" not in r.text
    token = get_token(clean_sandbox, "client-42", "secret-42")["access_token"]
    assert jwt.decode(token, options={"verify_signature": False})["accounts"] == ["9900042"]
    r = requests.get(f"{clean_sandbox.url}/api/accounts/9900042/sites", headers=bearer(token), timeout=TIMEOUT)
    assert r.status_code == 200 and "<Id>9942</Id>" in r.text
    # a client id of another account is refused; half a credential too
    taken = {**new, "account_id": "9900043", "site_id": "9943", "username": "u43", "user_id": "uid43"}
    r = control(clean_sandbox.url, "POST", "/_sandbox/accounts", json=taken, timeout=TIMEOUT)
    assert r.status_code == 409 and "client-42" in r.json()["error"]
    half = {**taken, "client_id": "client-43"}
    del half["client_secret"]
    r = control(clean_sandbox.url, "POST", "/_sandbox/accounts", json=half, timeout=TIMEOUT)
    assert r.status_code == 400 and "client_secret" in r.json()["error"]
    # without client_id/client_secret an account is still created (API user only)
    plain = {k: v for k, v in taken.items() if not k.startswith("client_")}
    assert control(clean_sandbox.url, "POST", "/_sandbox/accounts", json=plain, timeout=TIMEOUT).status_code == 201


# -- legacy_basic_auth ----------------------------------------------------------------------------

def test_basic_auth_is_allowed_by_default(dash: XmlSession) -> None:
    assert control(dash.url, "GET", "/_sandbox/settings", timeout=TIMEOUT).json()["legacy_basic_auth"] == "allowed"
    assert dash.get("/sites").status_code == 200


def test_decommissioned_basic_auth_gets_401_saying_how_to_switch(clean_sandbox: Any) -> None:
    settings(clean_sandbox, legacy_basic_auth="decommissioned")
    r = requests.get(f"{clean_sandbox.url}/api/accounts/{DEMO['account_id']}/sites",
                     auth=(DEMO["username"], DEMO["password"]), timeout=TIMEOUT)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Basic")
    code, text = dash_error(r)
    assert code == "401"
    for words in ("2026-12-02", "API credentials", "/api/v1/oauth2/token", "Bearer"):
        assert words in text
    # it speaks as the sandbox, not as a quotation of Bandwidth
    assert text.startswith("Sandbox (legacy_basic_auth=decommissioned)")
    r = requests.post(f"{clean_sandbox.url}/api/v2/users/{DEMO['account_id']}/messages",
                      auth=(DEMO["username"], DEMO["password"]),
                      json={"to": ["+19195551212"], "from": "+19195550000", "text": "x", "applicationId": APP_ID},
                      timeout=TIMEOUT)
    assert r.status_code == 401 and r.json()["type"] == "unauthorized" and "2026-12-02" in r.json()["description"]
    # a wrong password still gets the plain answer (the retirement text is no password oracle for strangers)
    r = requests.get(f"{clean_sandbox.url}/api/accounts/{DEMO['account_id']}/sites",
                     auth=(DEMO["username"], "wrong"), timeout=TIMEOUT)
    assert r.status_code == 401 and "2026-12-02" not in r.text
    # the guide's token:secret endpoint stays as it is
    r = requests.get(f"{clean_sandbox.url}/v2/users/{DEMO['user_id']}/messages",
                     auth=(DEMO["api_token"], DEMO["api_secret"]), timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    # and Bearer works
    r = requests.get(f"{clean_sandbox.url}/api/accounts/{DEMO['account_id']}/sites",
                     headers=bearer(get_token(clean_sandbox)["access_token"]), timeout=TIMEOUT)
    assert r.status_code == 200


def test_legacy_basic_auth_setting_refuses_unknown_modes(clean_sandbox: Any) -> None:
    r = control(clean_sandbox.url, "PUT", "/_sandbox/settings", json={"legacy_basic_auth": "off"}, timeout=TIMEOUT)
    assert r.status_code == 400 and "decommissioned" in r.json()["error"]


def test_reset_restores_demo_credentials_and_retires_earlier_tokens(clean_sandbox: Any,
                                                                    sandbox_clock: SandboxClock) -> None:
    add_credential(clean_sandbox, "temp", "temp-secret", ["Numbers"])
    token = get_token(clean_sandbox)["access_token"]
    dash = f"{clean_sandbox.url}/api/accounts/{DEMO['account_id']}/sites"
    assert requests.get(dash, headers=bearer(token), timeout=TIMEOUT).status_code == 200
    sandbox_clock.advance(1.1)  # token times are whole seconds; a reset does not turn the clock back
    assert control(clean_sandbox.url, "POST", "/_sandbox/reset", timeout=TIMEOUT).status_code == 200
    r = requests.post(token_url(clean_sandbox), auth=("temp", "temp-secret"),
                      data={"grant_type": "client_credentials"}, timeout=TIMEOUT)
    assert r.status_code == 401
    # the demo credential is back (same id and secret) but the token from before the reset is retired
    r = requests.get(dash, headers=bearer(token), timeout=TIMEOUT)
    assert r.status_code == 401 and "issued before" in dash_error(r)[1]
    assert requests.get(dash, headers=bearer(get_token(clean_sandbox)["access_token"]), timeout=TIMEOUT).status_code == 200


def test_sms_feature_with_bearer_and_numbers_role(dash: XmlSession, clean_sandbox: Any) -> None:
    """A write on a nested Dashboard path, with Bearer, lands in the same account as Basic sees."""
    s = bearer_session(clean_sandbox)
    peer = s.create_peer(name="OAuth Loc")
    r = s.post(s.peer_path(peer) + "/products/messaging/features/sms", SMS_BODY)
    assert r.status_code == 201, r.text
    assert dash.get(dash.peer_path(peer) + "/products/messaging/features/sms").status_code == 200


def test_a_tenant_credential_cannot_grant_roles_it_lacks(clean_sandbox: Any) -> None:
    add_credential(clean_sandbox, "numbers-only", "numbers-only-secret-1", ["Numbers"])
    token = get_token(clean_sandbox, "numbers-only", "numbers-only-secret-1")["access_token"]
    url = f"{clean_sandbox.url}/_sandbox/credentials"
    wanted = {"account_id": DEMO["account_id"], "client_id": "escalated", "client_secret": "escalated-secret-1"}
    r = requests.post(url, json={**wanted, "roles": ["Messaging", "Numbers"]}, headers=bearer(token), timeout=TIMEOUT)
    assert r.status_code == 403 and "Messaging" in r.text, r.text
    listed = control(clean_sandbox.url, "GET", "/_sandbox/credentials", timeout=TIMEOUT).json()["credentials"]
    assert "escalated" not in {c["client_id"] for c in listed}
    # the roles it holds it may grant
    r = requests.post(url, json={**wanted, "roles": ["Numbers"]}, headers=bearer(token), timeout=TIMEOUT)
    assert r.status_code == 201, r.text
