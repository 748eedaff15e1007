"""xmlio: build with header, parse with force_list, case-insensitive lookups, no entity expansion."""
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from bwhelpers import xmlio

MMS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<MmsFeatureResponse><MmsFeature><MmsSettings><protocol>HTTP</protocol></MmsSettings>
<Protocols><HTTP><HttpSettings><proxyPeerId>539692</proxyPeerId></HttpSettings></HTTP></Protocols>
</MmsFeature></MmsFeatureResponse>"""


def test_build_has_header_and_booleans():
    text = xmlio.build({"SipPeer": {"PeerName": "x & y", "IsDefaultPeer": True, "Skip": None}})
    assert text.startswith('<?xml version="1.0"')
    assert "<IsDefaultPeer>true</IsDefaultPeer>" in text and "x &amp; y" in text and "Skip" not in text
    assert xmlio.first(xmlio.parse(text)["SipPeer"])["PeerName"] == "x & y"  # SipPeer is force_list


def test_build_remove_body():
    assert xmlio.build({"ApplicationsSettings": "REMOVE"}).endswith("<ApplicationsSettings>REMOVE</ApplicationsSettings>")


def test_force_list_single_elements():
    one = xmlio.parse("<SearchResult><TelephoneNumberList><TelephoneNumber>9195551212</TelephoneNumber>"
                      "</TelephoneNumberList></SearchResult>")
    assert one["SearchResult"]["TelephoneNumberList"]["TelephoneNumber"] == ["9195551212"]
    order = xmlio.parse("<OrderResponse><CompletedNumbers><TelephoneNumber><FullNumber>9102398766</FullNumber>"
                        "</TelephoneNumber></CompletedNumbers><ErrorList><Error><Code>1</Code></Error></ErrorList>"
                        "</OrderResponse>")
    tn = order["OrderResponse"]["CompletedNumbers"]["TelephoneNumber"]
    assert tn == [{"FullNumber": ["9102398766"]}]
    assert isinstance(order["OrderResponse"]["ErrorList"]["Error"], list)


def test_case_insensitive_lookup():
    doc = xmlio.parse(MMS)
    assert xmlio.ci_get(doc, "MmsFeatureResponse", "MmsFeature", "MmsSettings", "Protocol") == "HTTP"
    assert xmlio.ci_get(doc, "mmsfeatureresponse", "MmsFeature", "Protocols", "HTTP", "HttpSettings",
                        "ProxyPeerId") == "539692"
    assert xmlio.ci_get(doc, "nope", default=1) == 1
    assert xmlio.ci_find_all(doc, "PROXYPEERID") == ["539692"]


def test_entities_are_not_expanded():
    evil = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    with pytest.raises(xmlio.XmlParseError):
        xmlio.parse(evil)


def test_empty_inputs():
    assert xmlio.parse(None) == {} and xmlio.parse("  ") == {} and xmlio.parse(b"") == {}
    assert xmlio.as_list(None) == [] and xmlio.as_list("a") == ["a"] and xmlio.first([]) is None


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=40))
@pytest.mark.slow
def test_roundtrip_text(value):
    text = xmlio.build({"Application": {"AppName": value}})
    parsed = xmlio.first(xmlio.parse(text)["Application"])
    got = parsed.get("AppName") if isinstance(parsed, dict) else None
    assert (got if got is not None else "") in (value, value.strip())
