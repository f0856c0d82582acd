"""Writing the small XML documents WizIQ exchanges, values in CDATA as WizIQ writes them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from airflow_provider_wiziq.api.errors import WizIQValidationError


def cdata(value: object) -> str:
    """``value`` as CDATA; a ``]]>`` inside is split across two sections so it cannot end the first early."""
    return "<![CDATA[" + str(value).replace("]]>", "]]]]><![CDATA[>") + "]]>"


def attendee_list_xml(attendees: Iterable[Mapping[str, Any]]) -> str:
    """``add_attendees``' ``attendee_list``: attendee_id and screen_name required (1024, 1023)."""
    items = []
    for position, attendee in enumerate(attendees):
        parts = []
        for name, code in (("attendee_id", 1024), ("screen_name", 1023)):
            value = attendee.get(name)
            if value is None or not str(value).strip():
                raise WizIQValidationError(
                    "attendee_list", f"attendee {position} has no {name}", code=code, method="add_attendees"
                )
            parts.append(f"<{name}>{cdata(str(value).strip())}</{name}>")
        language = attendee.get("language_culture_name")
        if language:
            parts.append(f"<language_culture_name>{cdata(language)}</language_culture_name>")
        items.append("<attendee>" + "".join(parts) + "</attendee>")
    if not items:
        raise WizIQValidationError("attendee_list", "is empty", code=1021, method="add_attendees")
    return "<attendee_list>" + "".join(items) + "</attendee_list>"
