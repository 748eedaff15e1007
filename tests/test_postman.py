"""bwhelpers.postman: schema-valid exports, no leaked secrets, the guide's requests, and a green newman run.

The newman tests run the exported collection with the exported environment against a fresh sandbox
(``node_modules/.bin/newman``, installed by ``npm ci``); their JUnit/JSON reports are kept under
``artifacts/``. They are skipped only outside CI when newman is not installed.
"""
from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests

from bwhelpers import postman, steps

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
ARTIFACTS = ROOT / "artifacts"
NEWMAN = ROOT / "node_modules" / ".bin" / "newman"

DEMO = {"account_id": "9900000", "site_id": "9901", "username": "sandbox-user", "password": "sandbox-password",
        "user_id": "u-sandbox", "api_token": "t-sandbox", "api_secret": "s-sandbox",
        "client_id": "sandbox-client-id", "client_secret": "sandbox-client-secret"}
SECRET_VALUES = ("sandbox-password", "t-sandbox", "s-sandbox", "sandbox-client-secret")
SECRET_KEYS = ("password", "token", "secret", "clientSecret")
GUIDE_DASHBOARD = "https://dashboard.bandwidth.com/api"

#: A state in the shape bwhelpers.setup.Setup saves.
SAVED_STATE = {
    "application": {"id": "7cc3c4f7-3b8f-4fff-a211-45070792b431", "name": "Demo Server",
                    "callback_url": "http://127.0.0.1:9/_sandbox/bins/sandbox", "bin": "sandbox"},
    "location": {"id": "316167", "name": "Bandwidth Messaging 2 test"},
    "sms": {"location_id": "316167"},
    "orders": [{"id": "a18a8979-ebed-42f0-ae5f-3cfa7941d4c2", "status": "COMPLETE", "numbers": ["+19102398766"]}],
    "numbers": ["+19102398766", "9102398767"],
}


# --------------------------------------------------------------------------- helpers / fixtures
def _schema(name: str) -> jsonschema.Draft7Validator:
    schema = json.loads((DATA / name).read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


COLLECTION_SCHEMA = _schema("postman-collection-v2.1.0.schema.json")
ENVIRONMENT_SCHEMA = _schema("postman-environment.schema.json")


def _errors(validator: jsonschema.Draft7Validator, doc: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]


def _sandbox_config(url: str = "http://127.0.0.1:8765", **changes: Any) -> dict[str, Any]:
    return {**DEMO, "target": "sandbox", "dashboard_url": f"{url}/api", "messaging_url": f"{url}/api/v2",
            "sandbox_url": url, **changes}


def _values(env: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["key"]: v for v in env["values"]}


def _requests(collection: dict[str, Any], token: bool = False) -> list[dict[str, Any]]:
    """The requests in order; without ``token`` the first one ("Get access token") is left out."""
    out = []
    for folder in collection["item"]:
        if folder["name"] == postman.TOKEN_FOLDER and not token:
            continue
        out.extend(folder["item"])
    return out


def _exec(item: dict[str, Any], listen: str = "test") -> str:
    return "\n".join(next(e for e in item["event"] if e["listen"] == listen)["script"]["exec"])


def _newman() -> Path:
    if NEWMAN.exists():
        return NEWMAN
    if os.environ.get("CI"):
        pytest.fail(f"{NEWMAN} is missing: CI must install it (npm ci) - the newman run is part of the tests")
    pytest.skip(f"newman is not installed ({NEWMAN} missing); run `npm ci` (CI always runs these tests)")


# --------------------------------------------------------------------------- the vendored schemas
def test_vendored_collection_schema_is_the_v2_1_0_one_and_says_where_it_comes_from():
    schema = COLLECTION_SCHEMA.schema
    assert schema["$id"] == postman.COLLECTION_SCHEMA
    assert "postmanlabs/schemas" in schema["$comment"] and "reconstructed" in schema["$comment"]
    assert schema["required"] == ["info", "item"]
    defs = schema["definitions"]
    for name in ("auth", "auth-attribute", "certificate", "cookie", "description", "event", "event-list", "header",
                 "header-list", "info", "item", "item-group", "proxy-config", "request", "response", "script", "url",
                 "variable", "variable-list", "version"):
        assert name in defs, name
    assert defs["info"]["required"] == ["name", "schema"]
    assert defs["item"]["required"] == ["request"]
    assert defs["header"]["required"] == ["key", "value"]
    assert "Postman publishes NO official" in ENVIRONMENT_SCHEMA.schema["$comment"]


@pytest.mark.parametrize("breakage, path", [
    (lambda c: c["info"].pop("schema"), "info.schema missing"),
    (lambda c: c["item"][0]["item"][0].pop("request"), "an item without request"),
    (lambda c: c["item"][0]["item"][0]["request"]["header"][0].pop("value"), "a header without value"),
    (lambda c: c["item"][0]["item"][0]["request"]["auth"].update(type="basicx"), "an unknown auth type"),
    (lambda c: c["item"][0]["item"][0]["event"][0].pop("listen"), "an event without listen"),
    (lambda c: c["item"][0]["item"][0]["request"]["body"].update(mode="xml"), "an unknown body mode"),
    (lambda c: c["variable"].append({"value": "no key"}), "a variable without key or id"),
])
def test_collection_schema_really_constrains(breakage: Any, path: str):
    broken = postman.build_collection()
    breakage(broken)
    assert _errors(COLLECTION_SCHEMA, broken), f"the schema accepted {path}"


@pytest.mark.parametrize("breakage", [
    lambda e: e.pop("_postman_variable_scope"),
    lambda e: e.update(_postman_variable_scope="globals"),
    lambda e: e["values"][0].update(type="password"),
    lambda e: e["values"][0].pop("enabled"),
    lambda e: e.update(id="not-a-uuid"),
])
def test_environment_schema_really_constrains(breakage: Any):
    env = postman.build_environment(_sandbox_config(), {})
    breakage(env)
    assert _errors(ENVIRONMENT_SCHEMA, env)


# --------------------------------------------------------------------------- collection
def test_collection_file_validates_and_has_one_folder_per_guide_step(tmp_path: Path):
    path = postman.export_collection(out_dir=tmp_path)
    assert path.name == "Bandwidth Messaging 2.0 setup.postman_collection.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert _errors(COLLECTION_SCHEMA, doc) == []
    info = doc["info"]
    assert info["schema"] == "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
    assert info["_postman_id"] == str(uuid.uuid5(postman._NAMESPACE, "collection:Bandwidth Messaging 2.0 setup"))
    assert postman.build_collection() == doc, "the collection is deterministic (stable ids, no timestamps)"
    assert postman.build_collection("Other")["info"]["_postman_id"] != info["_postman_id"]
    assert [f["name"] for f in doc["item"]] == [
        "0 Get access token", "1 Create application", "2 Create location (sippeer)", "3 Enable SMS on location",
        "4 Enable MMS on location", "5 Assign application to location", "6 Order numbers",
        "7 Check order status", "8 Register for A2P (10DLC campaign)", "9 Send text message", "9b legacy endpoint",
        "10 Send picture message", "1b legacy CallbackUrl"]
    # token; A2P: assign, then poll; pictures: upload, then send
    assert [len(f["item"]) for f in doc["item"]] == [1, 1, 1, 1, 1, 1, 1, 1, 2, 1, 1, 2, 1]
    assert "{{legacyMessagingUrl}}/users/{{userId}}/messages" in info["description"]


def test_each_request_checks_its_status_and_saves_what_the_next_needs():
    items = _requests(postman.build_collection())
    expected = [("POST", 201), ("POST", 201), ("POST", 201), ("POST", 201), ("PUT", 200), ("POST", 201),
                ("GET", 200), ("POST", 201), ("GET", 200), ("POST", 202), ("POST", 202), ("PUT", 204), ("POST", 202),
                ("POST", 201)]
    assert len(items) == len(expected)
    for item, (method, code) in zip(items, expected):
        assert item["request"]["method"] == method, item["name"]
        assert f"pm.response.to.have.status({code})" in _exec(item), item["name"]
    app, loc, _sms, _mms, _assign, order, status, tn_option, tn_check, send, legacy, upload, mms, legacy_app = items
    # the pictures step: a binary upload with its Content-Type, then an MMS listing the uploaded file's URL
    assert upload["request"]["body"] == {"mode": "file", "file": {"src": postman.PICTURE_FILE}}
    assert upload["request"]["header"] == [{"key": "Content-Type", "value": "image/png"}]
    assert upload["request"]["url"]["raw"] == "{{messagingUrl}}/users/{{accountId}}/media/{{mediaName}}"
    assert 'pm.environment.set("mediaUrl"' in _exec(upload)
    assert json.loads(mms["request"]["body"]["raw"])["media"] == ["{{mediaUrl}}"]
    assert "pm.execution.skipRequest()" in _exec(legacy_app, "prerequest") and "legacyApplication" in \
        _exec(legacy_app, "prerequest")
    assert 'pm.environment.set("applicationId"' in _exec(legacy_app)
    assert tn_option["request"]["url"]["raw"] == "{{dashboardUrl}}/accounts/{{account}}/tnoptions"
    body = tn_option["request"]["body"]["raw"]
    assert "<CampaignId>{{campaignId}}</CampaignId>" in body and "<TelephoneNumber>{{from}}</TelephoneNumber>" in body
    assert "<Action>asSpecified</Action>" in body and "<Sms>on</Sms>" in body
    assert 'pm.environment.set("tnOptionOrder"' in _exec(tn_option)
    assert tn_check["request"]["url"]["raw"] == "{{dashboardUrl}}/accounts/{{account}}/tnoptions/{{tnOptionOrder}}"
    assert 'next("Check TN Option Order")' in _exec(tn_check) and "ProcessingStatus" in _exec(tn_check)
    assert 'pm.environment.set("applicationId"' in _exec(app) and "ApplicationId" in _exec(app)
    assert 'pm.response.headers.get("Location")' in _exec(loc) and 'pm.environment.set("location"' in _exec(loc)
    assert 'xmlText(pm.response.text(), "id")' in _exec(order) and 'pm.environment.set("order"' in _exec(order)
    polling = _exec(status)
    assert 'pm.execution.setNextRequest(name)' in polling and 'postman.setNextRequest(name)' in polling
    assert 'next("Check order status")' in polling and "count < max" in polling
    assert "CompletedNumbers" in polling and 'pm.environment.set("from"' in polling
    assert "setTimeout" in _exec(status, "prerequest")
    assert "pm.execution.skipRequest()" in _exec(legacy, "prerequest")
    assert 'pm.environment.set("messageId"' in _exec(send)


def test_the_first_request_gets_a_token_and_stores_it():
    first = postman.build_collection()["item"][0]
    assert first["name"] == "0 Get access token" and len(first["item"]) == 1
    item = first["item"][0]
    req = item["request"]
    assert item["name"] == postman.TOKEN_REQUEST and req["method"] == "POST"
    # the URL is the variable itself: an object URL with an empty path made newman post to ".../token/"
    assert req["url"] == "{{tokenUrl}}"
    assert req["auth"]["type"] == "basic"
    assert {a["key"]: a["value"] for a in req["auth"]["basic"]} == {"username": "{{clientId}}",
                                                                    "password": "{{clientSecret}}"}
    assert req["body"] == {"mode": "urlencoded", "urlencoded": [{"key": "grant_type", "value": "client_credentials",
                                                                 "type": "text"}]}
    assert {h["key"]: h["value"] for h in req["header"]} == {"Content-Type": "application/x-www-form-urlencoded"}
    tests = _exec(item)
    assert "pm.response.to.have.status(200)" in tests
    assert 'pm.environment.set("accessToken", json.access_token)' in tests and "stop(" in tests


def test_legacy_basic_collection_is_optional_and_has_no_token_request():
    legacy = postman.build_collection(auth="basic")
    assert [f["name"] for f in legacy["item"]][0] == "1 Create application"
    assert _errors(COLLECTION_SCHEMA, legacy) == []
    for item in _requests(legacy):
        auth = {a["key"]: a["value"] for a in item["request"]["auth"]["basic"]}
        expected = ({"username": "{{token}}", "password": "{{secret}}"} if item["name"].endswith("(legacy endpoint)")
                    else {"username": "{{user}}", "password": "{{password}}"})
        assert auth == expected, item["name"]
    assert "2026-12-02" in legacy["info"]["description"]
    with pytest.raises(ValueError):
        postman.build_collection(auth="token")


def test_auth_headers_and_urls_come_from_variables():
    items = _requests(postman.build_collection())
    for item in items:
        req = item["request"]
        legacy = item["name"].endswith("(legacy endpoint)")
        if legacy:  # the guide's token:secret endpoint
            assert req["auth"]["type"] == "basic"
            auth = {a["key"]: a["value"] for a in req["auth"]["basic"]}
            assert auth == {"username": "{{token}}", "password": "{{secret}}"}, item["name"]
        else:  # everything else: the token from the first request
            assert req["auth"] == {"type": "bearer", "bearer": [{"key": "token", "value": "{{accessToken}}",
                                                                   "type": "string"}]}, item["name"]
        ctype = {h["key"]: h["value"] for h in req["header"]}["Content-Type"]
        if "messages" in req["url"]["raw"]:
            assert ctype == "application/json; charset=utf-8"
        elif "/media/" in req["url"]["raw"]:
            assert ctype == "image/png"  # the picture's own type (a binary body)
        else:
            assert ctype == "application/xml; charset=utf-8"
        assert req["url"]["raw"] == req["url"]["host"][0] + "/" + "/".join(req["url"]["path"])
        assert not re.search(r"https?://", req["url"]["raw"]), "no hard-coded host"
    raws = [i["request"]["url"]["raw"] for i in items]
    assert raws[-5] == raws[-2] == "{{messagingUrl}}/users/{{accountId}}/messages"  # the text, the picture
    assert raws[-4] == "{{legacyMessagingUrl}}/users/{{userId}}/messages"
    assert raws[-3] == "{{messagingUrl}}/users/{{accountId}}/media/{{mediaName}}"
    assert raws[0] == raws[-1] == "{{dashboardUrl}}/accounts/{{accountId}}/applications"


from guide import GUIDE  # noqa: E402  (the guide's requests, verbatim)
from conftest import SandboxClock, control  # noqa: E402

#: What each collection variable stands for in the guide's literal text.
AS_IN_GUIDE = {
    "Demo Server {{$timestamp}}": "Demo Server",
    "Bandwidth Messaging 2 test2 {{$timestamp}}": "Bandwidth Messaging 2 test2",
    "{{callbackUrl}}": "https://requestb.in/zuaqjbzu",
    "<HttpMessagingV2AppId>{{applicationId}}": "<HttpMessagingV2AppId>299ab22a-d7e6-4cf6-9f4d-2089efc0c031",
    '"{{from}}"': '"{{your-bandwidth-number}}"',
    '"{{to}}"': '"{{yourTN}}"',
    '"{{applicationId}}"': '"{{your-application-id}}"',
    "{{dashboardUrl}}": GUIDE_DASHBOARD,
    "{{legacyMessagingUrl}}": "https://api.catapult.inetwork.com/v2",
}


def _as_in_guide(text: str) -> str:
    for ours, guide in AS_IN_GUIDE.items():
        text = text.replace(ours, guide)
    return text


def test_step_1_sends_todays_application_fields_in_the_specs_order():
    import xmltodict

    items = _requests(postman.build_collection())
    body = xmltodict.parse(items[0]["request"]["body"]["raw"])["Application"]
    assert list(body) == ["ServiceType", "AppName", "InboundCallbackUrl", "OutboundCallbackUrl",
                          "RequestedCallbackTypes"]
    assert body["InboundCallbackUrl"] == "{{inboundCallbackUrl}}"
    assert body["OutboundCallbackUrl"] == "{{outboundCallbackUrl}}"
    assert "CallbackUrl" not in body and "MsgCallbackUrl" not in body  # never mixed (13065)


def test_requests_are_the_guides_with_variables():
    items = _requests(postman.build_collection())
    # step 1 as written in the guide is folder 1b (legacy CallbackUrl); step 8 the legacy send (ours: 9b)
    ours = [items[13], *items[1:7], items[10]]
    assert len(ours) == len(GUIDE)
    for item, (url, body) in zip(ours, GUIDE):
        req = item["request"]
        assert _as_in_guide(req["url"]["raw"]) == url, item["name"]
        if body is None:
            assert "body" not in req, item["name"]
        else:
            assert req["body"]["mode"] == "raw"
            assert _as_in_guide(req["body"]["raw"]) == body, item["name"]
            assert req["body"]["options"]["raw"]["language"] == ("json" if body.startswith("{") else "xml")
    # the current endpoint sends the same body as the legacy one
    assert items[9]["request"]["body"] == items[10]["request"]["body"]


# --------------------------------------------------------------------------- environment
def test_environment_has_the_guides_variables_saved_ids_and_numbers(tmp_path: Path):
    path = postman.export_environment(_sandbox_config(), SAVED_STATE, out_dir=tmp_path)
    assert path.name == "Bandwidth API Keys.postman_environment.json"
    env = json.loads(path.read_text(encoding="utf-8"))
    assert _errors(ENVIRONMENT_SCHEMA, env) == []
    assert env["name"] == "Bandwidth API Keys"
    assert env["_postman_variable_scope"] == "environment"
    assert env["_postman_exported_using"] == f"bwhelpers/{postman._version()}"
    assert uuid.UUID(env["id"])
    values = {k: v["value"] for k, v in _values(env).items()}
    assert all(v["enabled"] is True for v in env["values"])
    assert values == {
        "account": "9900000", "accountId": "9900000", "subaccount": "9901",
        "location": "316167", "applicationId": "7cc3c4f7-3b8f-4fff-a211-45070792b431",
        "order": "a18a8979-ebed-42f0-ae5f-3cfa7941d4c2", "userId": "u-sandbox", "user": "sandbox-user",
        "password": "", "token": "", "secret": "",
        "clientId": "sandbox-client-id", "clientSecret": "", "accessToken": "",
        "tokenUrl": "http://127.0.0.1:8765/api/v1/oauth2/token",
        "dashboardUrl": "http://127.0.0.1:8765/api", "messagingUrl": "http://127.0.0.1:8765/api/v2",
        "legacyMessagingUrl": "http://127.0.0.1:8765/v2",
        "callbackUrl": "http://127.0.0.1:9/_sandbox/bins/sandbox",
        "inboundCallbackUrl": "http://127.0.0.1:9/_sandbox/bins/sandbox",
        "outboundCallbackUrl": "http://127.0.0.1:9/_sandbox/bins/sandbox", "legacyApplication": "false",
        "from": "+19102398766", "to": postman.SANDBOX_TO,
        "number1": "+19102398766", "number2": "+19102398767",
        "campaignId": "CSBX001", "tnOptionOrder": "",  # the sandbox's pre-registered campaign; no order saved
    }
    # every {{variable}} the collection uses (other than those its scripts set) is in the environment
    used = set(re.findall(r"\{\{([A-Za-z][\w-]*)\}\}", json.dumps(postman.build_collection())))
    set_by_scripts = {"orderPollMax", "orderPollDelayMs", "orderPollCount", "mediaName", "mediaUrl"}
    assert used - set_by_scripts <= set(values), used - set(values)


def test_environment_from_a_config_object_and_from_no_state(tmp_path: Path):
    from bwhelpers.config import Config

    cfg = Config(**_sandbox_config("http://127.0.0.1:8766"))
    env = postman.build_environment(cfg, {})
    values = {k: v["value"] for k, v in _values(env).items()}
    assert values["dashboardUrl"] == "http://127.0.0.1:8766/api"
    assert values["callbackUrl"] == "http://127.0.0.1:8766/_sandbox/bins/postman"
    assert values["applicationId"] == values["location"] == values["order"] == values["from"] == ""
    assert not any(k.startswith("number") for k in values)


def test_environment_for_a_real_account_uses_the_real_bases_and_no_sandbox_defaults():
    cfg = {**DEMO, "target": "real", "dashboard_url": "https://dashboard.bandwidth.com/api",
           "messaging_url": "https://messaging.bandwidth.com/api/v2"}
    values = {k: v["value"] for k, v in _values(postman.build_environment(cfg, {})).items()}
    assert values["dashboardUrl"] == "https://dashboard.bandwidth.com/api"
    assert values["messagingUrl"] == "https://messaging.bandwidth.com/api/v2"
    assert values["legacyMessagingUrl"] == "https://api.catapult.inetwork.com/v2"
    assert values["to"] == "" and values["callbackUrl"] == postman.GUIDE_CALLBACK_URL
    assert values["tokenUrl"] == "https://api.bandwidth.com/api/v1/oauth2/token"
    assert values["clientId"] == "sandbox-client-id" and values["clientSecret"] == ""
    legacy = {**cfg, "messaging_url": "https://api.catapult.inetwork.com/v2"}
    values = {k: v["value"] for k, v in _values(postman.build_environment(legacy, {}, to="+19195551212")).items()}
    assert values["messagingUrl"] == "https://messaging.bandwidth.com/api/v2"
    assert values["legacyMessagingUrl"] == "https://api.catapult.inetwork.com/v2"
    assert values["to"] == "+19195551212"


def test_no_secret_in_an_export_without_include_secrets(tmp_path: Path):
    path = postman.export_environment(_sandbox_config(), SAVED_STATE, out_dir=tmp_path)
    text = path.read_text(encoding="utf-8")
    for secret in SECRET_VALUES:
        assert secret not in text
    values = _values(json.loads(text))
    for key in (*SECRET_KEYS, "accessToken"):
        assert values[key] == {"key": key, "value": "", "type": "secret", "enabled": True}
    assert {k for k, v in values.items() if v["type"] == "secret"} == {*SECRET_KEYS, "accessToken"}


def test_secrets_present_and_typed_secret_with_include_secrets(tmp_path: Path):
    path = postman.export_environment(_sandbox_config(), SAVED_STATE, out_dir=tmp_path, include_secrets=True)
    env = json.loads(path.read_text(encoding="utf-8"))
    assert _errors(ENVIRONMENT_SCHEMA, env) == []
    values = _values(env)
    assert tuple(values[k]["value"] for k in SECRET_KEYS) == SECRET_VALUES
    assert all(values[k]["type"] == "secret" for k in SECRET_KEYS)
    assert values["accessToken"]["value"] == "", "a token is never exported: the first request gets one"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600, "a file holding secrets is private"


def test_preview_rows_mask_secrets():
    rows = postman.environment_variables(_sandbox_config(), SAVED_STATE, include_secrets=True)
    text = json.dumps(rows)
    for secret in SECRET_VALUES:
        assert secret not in text
    by_key = {r["key"]: r for r in rows}
    assert by_key["password"]["value"] == "********" and by_key["password"]["set"] is True
    assert set(by_key["password"]) >= {"key", "value", "type", "enabled", "description", "source"}
    # without include_secrets the preview shows what the file holds: nothing, even unmasked
    rows = postman.environment_variables(_sandbox_config(), SAVED_STATE, masked=False)
    assert {r["key"]: r["value"] for r in rows}["password"] == ""
    frame = postman.environment_frame(_sandbox_config(), SAVED_STATE, include_secrets=True)
    assert list(frame["key"])[:3] == ["account", "accountId", "subaccount"]
    assert "sandbox-password" not in frame.to_string()


def test_cli_exports_both_files(isolated_env: Path, clean_sandbox: Any, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]):
    monkeypatch.setenv("BW_SANDBOX_URL", clean_sandbox.url)
    out = isolated_env / "exports"
    assert postman.cli(["--out", str(out)]) == 0
    printed = capsys.readouterr()
    env_path = out / "Bandwidth API Keys.postman_environment.json"
    col_path = out / "Bandwidth Messaging 2.0 setup.postman_collection.json"
    assert str(env_path) in printed.out and str(col_path) in printed.out
    env_text = env_path.read_text(encoding="utf-8")
    assert not any(s in env_text for s in SECRET_VALUES)
    assert _errors(ENVIRONMENT_SCHEMA, json.loads(env_text)) == []
    assert _errors(COLLECTION_SCHEMA, json.loads(col_path.read_text(encoding="utf-8"))) == []
    assert _values(json.loads(env_text))["dashboardUrl"]["value"] == f"{clean_sandbox.url}/api"

    assert postman.cli(["--out", str(out), "--include-secrets", "--name", "My keys"]) == 0
    assert "warning" in capsys.readouterr().err
    values = _values(json.loads((out / "My keys.postman_environment.json").read_text(encoding="utf-8")))
    assert values["password"] == {"key": "password", "value": "sandbox-password", "type": "secret", "enabled": True}


@pytest.mark.slow
def test_python_m_bwhelpers_postman(isolated_env: Path, clean_sandbox: Any):
    env = {**os.environ, "BW_SANDBOX_URL": clean_sandbox.url, "PYTHONPATH": str(ROOT)}
    out = isolated_env / "cli-out"
    proc = subprocess.run([sys.executable, "-m", "bwhelpers", "postman", "--out", str(out)], cwd=isolated_env,
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["Bandwidth API Keys.postman_environment.json",
                                                     "Bandwidth Messaging 2.0 setup.postman_collection.json",
                                                     "smile.png"]  # the picture the media upload sends
    assert not any(s in proc.stdout + proc.stderr for s in SECRET_VALUES)


# --------------------------------------------------------------------------- newman against the sandbox
def _run_newman(collection: Path, environment: Path, report: str, env_vars: dict[str, str] | None = None,
                on_line: Any = None) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """Run newman on the exported files; ``on_line(line)`` sees each line of its output as it comes."""
    ARTIFACTS.mkdir(exist_ok=True)
    junit = ARTIFACTS / f"{report}.xml"
    json_report = ARTIFACTS / f"{report}.json"
    cmd = [str(_newman()), "run", str(collection), "-e", str(environment), "--working-dir", str(collection.parent),
           "-r", "cli,junit,json", "--reporter-junit-export", str(junit),
           "--reporter-json-export", str(json_report), "--timeout-request", "10000", "--color", "off"]
    for key, value in (env_vars or {}).items():
        cmd += ["--env-var", f"{key}={value}"]
    if on_line is None:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180, cwd=ROOT)
    else:
        import threading

        with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT) as running:
            guard = threading.Timer(180, running.kill)
            guard.start()
            try:
                err: list[str] = []
                reader = threading.Thread(target=lambda: err.append(running.stderr.read()))  # type: ignore[union-attr]
                reader.start()
                lines = []
                for line in running.stdout:  # type: ignore[union-attr]
                    lines.append(line)
                    on_line(line)
                reader.join()
                running.wait()
            finally:
                guard.cancel()
        proc = subprocess.CompletedProcess(cmd, running.returncode, "".join(lines), "".join(err))
    (ARTIFACTS / f"{report}.log").write_text(proc.stdout + proc.stderr, encoding="utf-8")
    summary = json.loads(json_report.read_text(encoding="utf-8")) if json_report.exists() else {}
    # the JSON report holds request/response headers (Authorization): keep only the JUnit report and the log
    json_report.unlink(missing_ok=True)
    return proc, summary


LEGACY_APP = "Create application (legacy CallbackUrl)"


def _check_green(proc: subprocess.CompletedProcess[str], summary: dict[str, Any],
                 skipped: tuple[str, ...] = (LEGACY_APP,)) -> list[dict[str, Any]]:
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    run = summary["run"]
    assert run["failures"] == [] and not run.get("error")
    executions = run["executions"]
    names = [e["item"]["name"] for e in executions]
    for _, request in postman.STEPS:
        if request in skipped:
            assert request not in names, f"{request} ran although legacyApplication is not true"
        else:
            assert request in names, f"{request} did not run"
    if names[0] == postman.TOKEN_REQUEST:
        assert names.count(postman.TOKEN_REQUEST) == 1
    for e in executions:
        if e.get("requestError"):
            pytest.fail(f"{e['item']['name']}: {e['requestError']}")
        if e["item"]["name"].endswith("(legacy endpoint)") and not e.get("response"):
            pytest.fail("the legacy send was skipped")
        assertions = e.get("assertions") or []
        assert assertions, f"{e['item']['name']} ran without tests"
        assert all(not a.get("error") for a in assertions), e["item"]["name"]
    return executions


def _sandbox_messages(handle: Any) -> list[dict[str, Any]]:
    resp = control(handle.url, "GET", "/_sandbox/messages", params={"accountId": handle.credentials["account_id"]},
                        timeout=5)
    resp.raise_for_status()
    return resp.json()["messages"]


def _name_stamps(handle: Any) -> list[int]:
    """The ``{{$timestamp}}`` suffixes of the account's application and location names."""
    creds = handle.credentials
    base = f"{handle.url}/api/accounts/{creds['account_id']}"
    texts = [requests.get(f"{base}{path}", auth=(creds["username"], creds["password"]), timeout=10).text
             for path in ("/applications", f"/sites/{creds['site_id']}/sippeers")]
    stamps = [int(n) for text in texts for n in re.findall(r" (\d{10})</(?:AppName|PeerName)>", text)]
    assert stamps, texts
    return stamps


@pytest.mark.slow
def test_newman_runs_the_exported_collection_green_with_secrets_from_env_vars(isolated_env: Path, tmp_path: Path,
                                                                             fresh_sandbox: Any):
    """Default-like sandbox (orders RECEIVED for 2 s): the collection polls until COMPLETE. The sandbox's clock is
    frozen and moves on 1 s each time the collection checks again, so the first check always sees RECEIVED however
    fast or slow the machine (with the wall clock, a loaded machine's first check came after 2 s).

    The environment is exported WITHOUT secrets (the shareable file) and newman gets them with --env-var.
    API users are decommissioned (as on the real service since 2026-12-02): the run is OAuth only (plus the
    guide's token:secret endpoint, which is not an API user).
    """
    _newman()
    handle = fresh_sandbox(order_delay=2, settings={})  # today's rules: a2p_enforcement on (the default)
    try:
        control(handle.url, "PUT", "/_sandbox/settings", json={"legacy_basic_auth": "decommissioned"},
                timeout=5).raise_for_status()
        out = tmp_path / "exports"
        config = _sandbox_config(handle.url, **handle.credentials)
        environment = postman.export_environment(config, {}, out_dir=out)
        collection = postman.export_collection(out_dir=out)
        clock = SandboxClock(handle.url)
        clock.freeze()

        def on_line(line: str) -> None:
            if line.startswith("Attempting to set next request to Check"):  # a check saw RECEIVED: time goes on
                clock.advance(1)

        proc, summary = _run_newman(collection, environment, "newman-junit", env_vars={
            "clientSecret": handle.credentials["client_secret"], "token": handle.credentials["api_token"],
            "secret": handle.credentials["api_secret"]}, on_line=on_line)
        clock.resume()  # the texts' deliveries follow the clock: let it run again
        executions = _check_green(proc, summary)
        assert executions[0]["item"]["name"] == postman.TOKEN_REQUEST
        for e in executions[1:]:
            if not e["item"]["name"].endswith("(legacy endpoint)"):
                sent = {h["key"].lower(): h["value"] for h in e["request"]["header"]}
                assert sent["authorization"].startswith("Bearer "), e["item"]["name"]
        issued = control(handle.url, "GET", "/_sandbox/credentials", timeout=5).json()["credentials"]
        assert next(c for c in issued if c["client_id"] == "sandbox-client-id")["tokens_issued"] == 1
        checks = [e for e in executions if e["item"]["name"] == "Check order status"]
        assert len(checks) >= 2, "the order stays RECEIVED for 2 s: the status check must have repeated"
        tn_checks = [e for e in executions if e["item"]["name"] == postman.TN_OPTION_CHECK]
        assert len(tn_checks) >= 2, "the TN Option Order is RECEIVED/PROCESSING for 2 s: its check repeated"
        assert (ARTIFACTS / "newman-junit.xml").exists()
        junit = (ARTIFACTS / "newman-junit.xml").read_text(encoding="utf-8")
        assert 'failures="0"' in junit and "<failure" not in junit
        # the sandbox saw the guide's flow: three messages (text, picture, legacy text) from the ordered number
        sent = _sandbox_messages(handle)
        assert len(sent) == 3, sent
        pictures = [m for m in sent if m.get("media")]
        assert len(pictures) == 1 and pictures[0]["media"][0].endswith(f"/users/{handle.credentials['account_id']}"
                                                                        "/media/smile.png"), sent
        assert len({m.get("from") for m in sent}) == 1 and sent[0]["from"].startswith("+1910"), sent
        # ... and the application's {{callbackUrl}} (a sandbox bin) gets a message-delivered event for each
        events: list[dict[str, Any]] = []
        token = requests.post(f"{handle.url}/api/v1/oauth2/token", data={"grant_type": "client_credentials"},
                              auth=(handle.credentials["client_id"], handle.credentials["client_secret"]),
                              timeout=5).json()["access_token"]
        bearer = {"Authorization": f"Bearer {token}"}
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            # (API users are decommissioned here, so the account reads its bin with a Bearer token)
            events = requests.get(f"{handle.url}/_sandbox/bins/postman", headers=bearer, timeout=5).json()["events"]
            if sum(e.get("type") == "message-delivered" for e in events) >= 3:
                break
            time.sleep(0.2)
        delivered = [e for e in events if e.get("type") == "message-delivered"]
        assert {e["message"]["id"] for e in delivered} == {m["id"] for m in sent}, events
        assert not any(s in proc.stdout + proc.stderr for s in SECRET_VALUES), "newman's log shows no secret"
        assert "eyJhbGciOi" not in proc.stdout + proc.stderr, "newman's log shows no access token"
    finally:
        handle.stop()


@pytest.mark.slow
def test_newman_green_with_immediate_orders_and_a_secrets_export_and_rerunnable(clean_sandbox: Any, tmp_path: Path):
    """Orders complete at once; the environment holds the secrets; a second run on the same account is green."""
    _newman()
    control(clean_sandbox.url, "PUT", "/_sandbox/settings", json={"a2p_enforcement": True},
            timeout=5).raise_for_status()  # the collection's A2P folder registers the number
    out = tmp_path / "exports"
    environment = postman.export_environment(_sandbox_config(clean_sandbox.url, **clean_sandbox.credentials), {}, out_dir=out,
                                             include_secrets=True)
    collection = postman.export_collection(out_dir=out)
    first = _check_green(*_run_newman(collection, environment, "newman-junit-immediate"))
    assert len([e for e in first if e["item"]["name"] == "Check order status"]) == 1
    # {{$timestamp}} (whole seconds) makes the rerun's AppName/PeerName new: it must run in a later second than the
    # first run's names (it always has so far, a newman run takes seconds; otherwise wait out what is left of it)
    time.sleep(max(0.0, max(_name_stamps(clean_sandbox)) + 1 - time.time()))
    # the rerun uses the optional legacy collection: the guide's Basic username:password, accepted by default
    legacy = postman.export_collection(out_dir=out / "legacy", auth="basic")
    # ... and also walks folder 1b: the guide's CallbackUrl application is accepted (201)
    rerun = _check_green(*_run_newman(legacy, environment, "newman-junit-rerun-legacy-basic",
                                      env_vars={"legacyApplication": "true"}), skipped=())
    assert postman.TOKEN_REQUEST not in [e["item"]["name"] for e in rerun]
    assert next(e for e in rerun if e["item"]["name"] == LEGACY_APP)["response"]["code"] == 201
    assert len(_sandbox_messages(clean_sandbox)) == 6  # per run: the text, the picture, the legacy text


@pytest.mark.slow
def test_newman_run_fails_when_the_order_never_completes(clean_sandbox: Any, tmp_path: Path):
    """The bounded retry really is bounded: with orderPollMax=2 and a 5 s order, the run fails (exit 1)."""
    _newman()
    control(clean_sandbox.url, "PUT", "/_sandbox/settings", json={"order_transition": {"mode": "seconds", "seconds": 5}},
                 timeout=5).raise_for_status()
    out = tmp_path / "exports"
    environment = postman.export_environment(_sandbox_config(clean_sandbox.url, **clean_sandbox.credentials), {}, out_dir=out,
                                             include_secrets=True)
    collection = postman.export_collection(out_dir=out)
    proc, summary = _run_newman(collection, environment, "newman-junit-bounded-retry",
                                env_vars={"orderPollMax": "2", "orderPollDelayMs": "10"})
    assert proc.returncode == 1
    failed = {f["source"]["name"] for f in summary["run"]["failures"]}
    assert failed == {"Check order status"}
    names = [e["item"]["name"] for e in summary["run"]["executions"]]
    assert names.count("Check order status") == 2
    assert "Send text message" not in names, "the run stops at the failed step"
    (ARTIFACTS / "newman-junit-bounded-retry.xml").unlink(missing_ok=True)  # an expected failure, not a result


def test_a_real_accounts_environment_carries_the_number_last_texted(tmp_path: Path):
    """Review 24d finding 4: on a real account ``to`` was exported empty, so the collection failed 400 as exported
    and 12 never said why. It now carries the number the send step last texted (your own phone, not a secret); before
    any text the preview row and 12's Next say to type your own number, with the newman line for a real account."""
    from bwhelpers.ui.export import downloads_html

    cfg = {**DEMO, "target": "real", "dashboard_url": "https://dashboard.bandwidth.com/api",
           "messaging_url": "https://messaging.bandwidth.com/api/v2"}
    sent = {**SAVED_STATE, "messages": [{"id": "m-1", "to": "+19192381234", "text": "hi"},
                                        {"id": "m-2", "to": ["+19192381235", "+19192381236"], "text": "group"}]}
    rows = {r["key"]: r for r in postman.environment_variables(cfg, sent)}
    assert rows["to"]["value"] == "+19192381235" and rows["to"]["source"] == "state"
    path = postman.export_environment(cfg, sent, out_dir=tmp_path)
    assert _values(json.loads(path.read_text()))["to"]["value"] == "+19192381235"
    (tmp_path / "c.json").write_text("{}")
    files = {"environment": path, "collection": tmp_path / "c.json"}
    shown = downloads_html(files, real_to=rows["to"]["value"])
    assert f"<code>+19192381235</code>, the number {steps.page('messages').notebook} last texted" in shown
    assert f'newman run "c.json" -e "{path.name}"' in shown and "--env-var to=" not in shown
    empty = {r["key"]: r for r in postman.environment_variables(cfg, SAVED_STATE)}["to"]
    assert empty["value"] == "" and "type your own mobile number" in empty["description"]
    shown = downloads_html(files, real_to="")
    assert "<code>to</code> is empty</b>" in shown
    assert "type your own mobile number" in shown.lower() and "--env-var to=+1YOURNUMBER" in shown
    assert "start a sandbox" not in shown  # the sandbox's newman lines are not a real account's
    assert "start a sandbox" in downloads_html(files)  # the sandbox keeps them
    # the sandbox keeps its magic receiver whatever was texted
    sandbox = {r["key"]: r for r in postman.environment_variables(_sandbox_config(), sent)}
    assert sandbox["to"]["value"] == postman.SANDBOX_TO
