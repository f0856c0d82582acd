"""Writing the small XML documents WizIQ exchanges, values in CDATA as WizIQ writes them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any

from airflow_provider_wiziq.api.protocol import values
from airflow_provider_wiziq.api.protocol.errors import Code, WizIQValidationError


def cdata(value: object) -> str:
    """``value`` as CDATA; a ``]]>`` inside is split across two sections so it cannot end the first early."""
    return "<![CDATA[" + str(value).replace("]]>", "]]]]><![CDATA[>") + "]]>"


def attendee_list_xml(attendees: Iterable[Mapping[str, Any]]) -> str:
    """``add_attendees``' ``attendee_list``: attendee_id and screen_name required (1024, 1023).

    Each field is read as ``create`` reads text (:func:`values.text`): a non-text value, a control character
    or a lone surrogate is refused naming the attendee, never sent as a repr or left to fail while sending.
    """
    items = []
    for position, attendee in enumerate(attendees):
        if not isinstance(attendee, Mapping):
            raise WizIQValidationError(
                "attendee_list",
                f"attendee {position} must be a dict with attendee_id and screen_name, not {type(attendee).__name__}",
                method="add_attendees",
            )
        parts = []
        for name, code in (("attendee_id", Code.ATTENDEE_ID_MISSING), ("screen_name", Code.SCREEN_NAME_MISSING)):
            value = _read(position, name, partial(values.text, name, whole_number_ok=True), attendee.get(name))
            if value is None:
                raise WizIQValidationError(
                    "attendee_list", f"attendee {position} has no {name}", code=code, method="add_attendees"
                )
            parts.append(f"<{name}>{cdata(value)}</{name}>")
        language = _read(
            position,
            "language_culture_name",
            lambda v: values.language("language_culture_name", v),
            attendee.get("language_culture_name"),
        )
        if language:
            parts.append(f"<language_culture_name>{cdata(language)}</language_culture_name>")
        items.append("<attendee>" + "".join(parts) + "</attendee>")
    if not items:
        raise WizIQValidationError("attendee_list", "is empty", code=Code.ATTENDEE_LIST_MISSING, method="add_attendees")
    return "<attendee_list>" + "".join(items) + "</attendee_list>"


def _read(position: int, name: str, read: Callable[[object], str | None], value: object) -> str | None:
    """One attendee field read by ``read``; its refusal names the attendee_list parameter and the attendee."""
    try:
        return read(value)
    except WizIQValidationError as error:
        raise WizIQValidationError(
            "attendee_list", f"attendee {position}: {name} {error.detail}", code=error.code, method="add_attendees"
        ) from None
