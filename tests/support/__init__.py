"""Helpers and data shared by test modules (a test module never imports another test module)."""

from __future__ import annotations

from pathlib import Path

ANSWERS = Path(__file__).resolve().parent / "answers"

#: The secret key, a series and a status record that the scripted-server tests answer with.
SECRET = "s3cret+/=key"
SERIES = (
    "<recurring_class_details><class_master_id>2345</class_master_id><class_details><class_id>15716</class_id>"
    "<recording_url><![CDATA[https://rec.example/15716]]></recording_url><presenter_list><presenter>"
    "<presenter_email><![CDATA[teacher@example.com]]></presenter_email>"
    "<presenter_url><![CDATA[https://class.example/p/15716]]></presenter_url></presenter></presenter_list>"
    '</class_details></recurring_class_details><is_recurring value="1"><recurring_summary><![CDATA[Your '
    "recurring series starts on 01/12/2026 at 09:30 and repeats daily (all 7 days)]]></recurring_summary>"
    "</is_recurring>"
)
RECORD = "<record_list><record><class_id>15716</class_id><status>upcoming</status></record></record_list>"


def answer(name: str) -> bytes:
    """A real-shaped WizIQ answer kept as a data file: ``answers/<name>.xml``, byte for byte."""
    return (ANSWERS / f"{name}.xml").read_bytes()
