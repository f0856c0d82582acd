"""The emulator's XML writer: escaping, CDATA splitting, characters XML cannot carry."""

from __future__ import annotations

import defusedxml.ElementTree as DefusedET
import pytest

from airflow_provider_wiziq.emulator.xmlwriter import Text, document, element, text_element


def test_cdata_holding_its_own_terminator_reads_back_exactly():
    tricky = "a ]]> b <c> & ]]]]> ]]"
    root = DefusedET.fromstring(document(element("rsp", text_element("title", tricky))))
    assert root.findtext("title") == tricky


def test_attributes_are_escaped():
    message = "say \"hi\" & <bye> 'now'"
    root = DefusedET.fromstring(document(element("rsp", element("error", code=1000, msg=message))))
    assert root.find("error").get("msg") == message


def test_characters_xml_cannot_hold_become_replacement_characters():
    root = DefusedET.fromstring(document(element("rsp", text_element("title", "bell\x07 nul\x00"))))
    assert root.findtext("title") == "bell\ufffd nul\ufffd"


def test_ints_bare_text_escaped_strings_cdata():
    rendered = element(
        "r", text_element("class_id", 15), element("method", Text("a<b")), text_element("t", "x")
    ).render()
    assert rendered == "<r><class_id>15</class_id><method>a&lt;b</method><t><![CDATA[x]]></t></r>"
    assert element("cancel", status="true").render() == '<cancel status="true"/>'


def test_bad_names_are_refused():
    with pytest.raises(ValueError, match="not an XML name"):
        element("bad name")
