"""A small XML writer for the emulator's answers: names checked, attributes escaped, text in CDATA.

WizIQ writes values in CDATA and ids as bare numbers (docs/wiziq-api.md §4); :func:`cdata` is the client's own
(it splits a ``]]>`` across two sections). Characters XML 1.0 cannot carry become U+FFFD, so no stored
value can make an answer unreadable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from airflow_provider_wiziq.api.protocol.xmlwrite import cdata

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
# Everything XML 1.0 does not allow in a document (C0 controls but tab/newline/return, surrogates, FFFE/FFFF).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class Text(str):
    """Text written escaped rather than as CDATA (``<method>create</method>``)."""

    __slots__ = ()


def _xml_safe(value: object) -> str:
    """``value`` as text that XML 1.0 can hold."""
    return _NOT_XML.sub("\ufffd", str(value))


@dataclass
class Element:
    """An element with attributes and children (elements or text); text is written as CDATA or escaped."""

    name: str
    attributes: dict[str, str] = field(default_factory=dict)
    children: list[Element | str | int] = field(default_factory=list)

    def __post_init__(self) -> None:
        for name in (self.name, *self.attributes):
            if not _NAME.fullmatch(name):
                raise ValueError(f"not an XML name: {name!r}")

    def add(self, *children: Element | str | int | None) -> Element:
        """Append children (``None`` is skipped) and return self, so builders can chain."""
        self.children.extend(child for child in children if child is not None)
        return self

    def render(self) -> str:
        attributes = "".join(f" {name}={quoteattr(_xml_safe(value))}" for name, value in self.attributes.items())
        if not self.children:
            return f"<{self.name}{attributes}/>"
        inner = "".join(_render_child(child) for child in self.children)
        return f"<{self.name}{attributes}>{inner}</{self.name}>"


def _render_child(child: Element | str | int) -> str:
    if isinstance(child, Element):
        return child.render()
    if isinstance(child, int):
        return str(child)
    if isinstance(child, Text):
        return escape(_xml_safe(child))
    return cdata(_xml_safe(child))


def element(name: str, *children: Element | str | int | None, **attributes: object) -> Element:
    """``element("class_id", 15)`` is ``<class_id>15</class_id>``; strings become CDATA."""
    return Element(name, {key: str(value) for key, value in attributes.items()}).add(*children)


def text_element(name: str, value: str | int | None) -> Element:
    """A leaf: ints bare, strings in CDATA, ``None`` as an empty element."""
    return Element(name).add(value)


def document(root: Element) -> bytes:
    """The answer's bytes: an XML declaration, then the root element, UTF-8."""
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + root.render()).encode("utf-8")
