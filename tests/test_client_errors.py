"""Error parsing from literal Bandwidth bodies, class mapping, fixes, and secret scrubbing."""
from __future__ import annotations

import pickle

import pytest

from _client_helpers import assert_no_secrets
from bwhelpers.errors import (AuthError, BandwidthError, ConflictError, NotFoundError, RateLimitError, ServerError,
                              ValidationError, error_from_response, parse_error_body, register_secret, scrub)

RESPONSE_STATUS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<SipPeerResponse><ResponseStatus><ErrorCode>13563</ErrorCode>
<Description>Sip Peer '316167' account '9999999' and site '45' does not exist</Description>
</ResponseStatus></SipPeerResponse>"""
ERROR_LIST = """<OrderResponse><ErrorList><Error><Code>5016</Code><Description>The SiteId submitted is invalid.
</Description></Error><Error><Code>5023</Code><Description>bad peer</Description></Error></ErrorList>
<Order><SiteId>1</SiteId></Order></OrderResponse>"""
SEARCH_ERROR = """<SearchResult><Error><Code>4010</Code><Description>One of more required search parameters are
null or empty</Description></Error></SearchResult>"""
JSON_400 = ('{"type":"request-validation","description":"Your request could not be accepted","fieldErrors":'
            '[{"fieldName":"text","description":"\'text\' is required unless media is included"}]}')
ASSIGN_13645 = """<ApplicationsSettingsResponse><ResponseStatus><ErrorCode>13645</ErrorCode><Description>Please
assign SMS or MM4 protocol to HTTP before associating the application to the location</Description>
</ResponseStatus></ApplicationsSettingsResponse>"""


def test_response_status_shape():
    p = parse_error_body(RESPONSE_STATUS)
    assert p["code"] == "13563" and "does not exist" in p["description"]
    err = error_from_response(400, RESPONSE_STATUS)
    assert isinstance(err, NotFoundError) and err.status == 400 and err.code == "13563"
    assert "create it (step 2)" in str(err)


def test_error_list_shape_keeps_all_errors():
    err = error_from_response(400, ERROR_LIST)
    assert isinstance(err, ValidationError) and err.code == "5016"
    assert [d["code"] for d in err.details] == ["5016", "5023"]
    assert "BW_SITE_ID" in str(err)


def test_search_error_shape():
    err = error_from_response(400, SEARCH_ERROR)
    assert err.code == "4010" and isinstance(err, ValidationError) and isinstance(err, ValueError)


def test_json_shape_with_field_errors():
    err = error_from_response(400, JSON_400, headers={"Content-Type": "application/json"})
    assert err.code == "request-validation" and err.field == "text"
    assert "'text' is required unless media is included" in str(err)


def test_13645_is_conflict_with_fix():
    err = error_from_response(400, ASSIGN_13645, request={"method": "PUT", "url": "http://x/applicationSettings"})
    assert isinstance(err, ConflictError) and err.code == "13645"
    assert "enable SMS (step 3) before assigning the application (step 5)" in str(err)
    assert err.fix.startswith("enable SMS")


@pytest.mark.parametrize("code", ["13613", "13622", "13624", "13673", "12107", "13623", "13629"])
def test_step_order_codes_are_conflicts(code):
    body = f"<X><ResponseStatus><ErrorCode>{code}</ErrorCode><Description>d</Description></ResponseStatus></X>"
    err = error_from_response(400, body)
    assert isinstance(err, ConflictError) and err.fix


@pytest.mark.parametrize("status,cls", [(401, AuthError), (403, AuthError), (404, NotFoundError),
                                        (409, ConflictError), (429, RateLimitError), (500, ServerError),
                                        (503, ServerError), (400, ValidationError), (418, ValidationError)])
def test_status_mapping(status, cls):
    err = error_from_response(status, "")
    assert type(err) is cls and err.status == status and isinstance(err, BandwidthError)


def test_rate_limit_retry_after():
    err = error_from_response(429, '{"type":"max-message-queue-size-exceeded","description":"queue full"}',
                              headers={"Retry-After": "2"})
    assert isinstance(err, RateLimitError) and err.retry_after == 2.0 and "slow down" in str(err)


def test_garbage_bodies_do_not_crash():
    for body in ["<not xml", "plain text", "{bad json", b"\xff\xfe", "<!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>"]:
        err = error_from_response(500, body)
        assert isinstance(err, ServerError)


def test_secrets_scrubbed_everywhere():
    register_secret("hunter2-callback-pw")
    body = ("<ApplicationProvisioningResponse><ResponseStatus><ErrorCode>12812</ErrorCode><Description>creds "
            "hunter2-callback-pw need https</Description></ResponseStatus></ApplicationProvisioningResponse>")
    req = {"method": "POST", "url": "http://x", "headers": {}, "body": scrub(
        "<Application><CallbackCreds><UserId>u</UserId><Password>hunter2-callback-pw</Password></CallbackCreds>"
        "</Application>")}
    err = error_from_response(400, body, request=req)
    assert_no_secrets(str(err) + repr(err) + str(err.request) + str(err.response) + str(err.description))
    assert "https" in str(err)
    assert scrub('{"password": "abc", "x": 1}') == '{"password": "********", "x": 1}'
    # the patterns' case folding, including the non-ASCII letters re.I folds (long s, Kelvin sign), and _? in api_key
    assert scrub('{"ClientSECRET": "abc", "apiKey": "def"}') == '{"ClientSECRET": "********", "apiKey": "********"}'
    assert scrub("<Pa\u017fsword>abc</Pa\u017fsword><Api_\u212aey>def</Api_\u212aey>") == \
        "<Pa\u017fsword>********</Pa\u017fsword><Api_\u212aey>********</Api_\u212aey>"
    assert scrub("<Note>no secret here</Note>") == "<Note>no secret here</Note>"


def test_pickle_roundtrip():
    err = error_from_response(400, ASSIGN_13645)
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is ConflictError and again.code == "13645" and str(again) == str(err)
