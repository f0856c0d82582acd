"""Reading an answer's XML safely: in time linear in its bytes and in memory close to its size.

Before expat sees a byte, one linear walk over the prolog refuses a DTD (so no entity is ever declared,
let alone expanded) and recognises an HTML page, and the declared encoding is checked to be one expat reads
byte for byte. The parse then streams the body in slices through ``ElementTree``'s C parser, counting
elements and depth as they come, so a hostile answer is refused after at most one slice past a limit instead
of being built into a tree first.
"""

from __future__ import annotations

import codecs
import functools
import re
from xml.etree.ElementTree import Element, ParseError, TreeBuilder, XMLParser

from airflow_provider_wiziq.api.errors import WizIQResponseError

#: No WizIQ answer nests deeper than 7 elements (``rsp/view_schedule/recurring_list/class_details/
#: presenter_list/presenter/presenter_url``): 32 leaves room for any wrapping and refuses a nesting bomb.
MAX_DEPTH = 32
#: The largest real answers (an attendance report of a full class, a page of 100 records of every
#: column) hold a few thousand elements; 50,000 is several times that.
MAX_ELEMENTS = 50_000
#: Bytes handed to expat at a time: the elements of one slice are counted before the next is read.
_SLICE = 16 * 1024

_BOM = b"\xef\xbb\xbf"
_UTF16_STARTS = (b"\xfe\xff", b"\xff\xfe", b"\x00<", b"<\x00")
_SPACE = re.compile(rb"[ \t\r\n]*")
_ENCODING = re.compile(rb"[ \t\r\n]encoding[ \t\r\n]*=[ \t\r\n]*[\"']([A-Za-z0-9._-]{0,64})[\"']")
_DOCTYPE = re.compile(rb"<!doctype[ \t\r\n]+([A-Za-z_:][-A-Za-z0-9._:]{0,64})", re.IGNORECASE)
_HTML_ROOT = re.compile(rb"<html(?![-A-Za-z0-9._:])", re.IGNORECASE)
#: Encodings expat reads itself; any other must be a single-byte codec that leaves ASCII as it is.
_EXPAT_ENCODINGS = frozenset({"utf-8", "us-ascii", "iso-8859-1"})
_ASCII = bytes(range(128)).decode("ascii")


def read_xml(body: bytes, method: str) -> Element:
    """The answer's root element.

    Raises :class:`WizIQResponseError` saying what the body is instead: empty, an HTML page, a DTD
    (``hostile``), an encoding expat cannot read, too deep or too many elements (``too_large``), malformed.
    """
    if not body:
        raise WizIQResponseError("empty body", method=method)
    if not body.strip():
        raise WizIQResponseError(f"empty body ({len(body)} bytes of whitespace)", method=method)
    if body.startswith(_UTF16_STARTS):
        raise WizIQResponseError(
            f"XML in UTF-16 ({len(body)} bytes); WizIQ answers in UTF-8, which is what is read", method=method
        )
    encoding = _declared_encoding(body)
    if encoding is not None:
        problem = _encoding_problem(encoding)
        if problem is not None:
            raise WizIQResponseError(f"XML in {problem} ({len(body)} bytes)", method=method)
    _check_prolog(body, method)
    try:
        return _stream(body, method)
    except ParseError as err:
        raise WizIQResponseError(_describe_malformed(body, encoding, str(err)), method=method) from None
    except (LookupError, ValueError):  # expat's own encoding refusals, should a name pass the check above
        raise WizIQResponseError(f"XML in an encoding expat cannot read ({len(body)} bytes)", method=method) from None


def _declared_encoding(body: bytes) -> str | None:
    """The ``encoding`` of the XML declaration (lower case), or None when there is none."""
    start = len(_BOM) if body.startswith(_BOM) else 0
    if not body.startswith(b"<?xml", start):
        return None
    end = body.find(b"?>", start)
    if end < 0:
        return None
    declared = _ENCODING.search(body, start, end)
    return declared.group(1).decode("ascii").lower() if declared else None


@functools.lru_cache(maxsize=64)
def _encoding_problem(name: str) -> str | None:
    """Why expat cannot read XML in ``name`` (in words that never quote an unknown name), or None."""
    if name in _EXPAT_ENCODINGS:
        return None
    try:
        known = codecs.lookup(name).name
    except LookupError:
        return f"an unknown encoding ({len(name)} characters)"
    try:
        # What pyexpat does for an encoding expat does not know: a table of the 256 single bytes.
        table = bytes(range(256)).decode(name, "replace")
    except (LookupError, ValueError, TypeError):
        table = ""
    if len(table) != 256 or table[:128] != _ASCII:
        return f"an encoding expat cannot read ({known})"
    return None


def _check_prolog(body: bytes, method: str) -> None:
    """Walk what precedes the root element once: refuse a DTD, recognise an HTML page.

    Each step looks for the end of one declaration, comment or processing instruction after the previous
    one, so the walk is linear in the prolog's length whatever it holds.
    """
    at = len(_BOM) if body.startswith(_BOM) else 0
    while True:
        at = _SPACE.match(body, at).end()  # type: ignore[union-attr]  # matches the empty string at least
        if body.startswith(b"<?", at):
            end = body.find(b"?>", at + 2)
            at = end + 2
        elif body.startswith(b"<!--", at):
            end = body.find(b"-->", at + 4)
            at = end + 3
        else:
            break
        if end < 0:
            return  # unterminated: malformed, which expat says
    doctype = _DOCTYPE.match(body, at)
    if doctype is not None:
        close = body.find(b">", at)
        subset = body.find(b"[", at, close if close >= 0 else len(body))
        if doctype.group(1).lower() == b"html" and subset < 0:
            raise WizIQResponseError(f"an HTML page, not XML ({len(body)} bytes)", method=method)
        raise WizIQResponseError(
            "declares a DTD (DTDs and entities are refused, never expanded)", method=method, hostile=True
        )
    if _HTML_ROOT.match(body, at):
        raise WizIQResponseError(f"an HTML page, not XML ({len(body)} bytes)", method=method)


def _stream(body: bytes, method: str) -> Element:
    """Parse ``body`` slice by slice, refusing it as soon as it is nested too deep or holds too many elements.

    Both limits bound the tree, so its memory stays a small multiple of the answer's bytes.
    """
    parser = XMLParser(target=TreeBuilder())
    events: list[tuple[str, Element]] = []
    parser._setevents(events, ("start", "end"))  # type: ignore[attr-defined]  # XMLPullParser's own hook
    depth = elements = 0
    view = memoryview(body)
    for offset in range(0, len(body), _SLICE):
        parser.feed(view[offset : offset + _SLICE])
        depth_before = depth
        for event, _ in events:
            if event == "start":
                depth += 1
                if depth > MAX_DEPTH:
                    raise _too_large(f"nested deeper than {MAX_DEPTH} elements", method)
            else:
                depth -= 1
        elements += (len(events) + depth - depth_before) // 2  # starts: ends + the change in depth
        events.clear()
        if elements > MAX_ELEMENTS:
            raise _too_large(f"more than {MAX_ELEMENTS} elements", method)
    return parser.close()


def _too_large(what: str, method: str) -> WizIQResponseError:
    return WizIQResponseError(f"{what}, more than any WizIQ answer holds", method=method, too_large=True)


def _describe_malformed(body: bytes, encoding: str | None, expat_message: str) -> str:
    """Why expat refused the body, in words; expat's own messages name positions, never content."""
    if encoding in (None, "utf-8", "utf8"):
        invalid = _first_invalid_utf8(body)
        if invalid is not None:
            return f"bytes that are not valid UTF-8 in a UTF-8 document (first at byte {invalid})"
    if not body.lstrip().removeprefix(_BOM).lstrip().startswith(b"<"):
        return f"not XML: {len(body)} bytes that do not start with '<' ({expat_message})"
    return f"truncated or malformed XML ({expat_message})"


def _first_invalid_utf8(body: bytes) -> int | None:
    """Where the first byte that is not UTF-8 is, read slice by slice; a sequence cut at the end is not one."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    for offset in range(0, len(body), _SLICE):
        pending = len(decoder.getstate()[0])
        try:
            decoder.decode(body[offset : offset + _SLICE])
        except UnicodeDecodeError as err:
            return offset - pending + err.start
    return None
