"""Reading an answer's XML safely: in time linear in its bytes and in memory close to its size.

Before expat sees a byte, one linear walk over the prolog refuses a DTD (so no entity is ever declared,
let alone expanded) and recognises an HTML page, and the declared encoding is checked to be one expat reads
byte for byte. The parse then streams the body in slices through ``ElementTree``'s C parser, counting
elements and depth as they come, so a hostile answer is refused after at most one slice past a limit instead
of being built into a tree first. The records of a long answer (:class:`Records`) are built into results
as each one closes and then dropped, so the tree never holds more than the records of one slice.
"""

from __future__ import annotations

import codecs
import functools
import re
from collections.abc import Callable
from typing import Generic, TypeAlias, TypeVar
from xml.etree.ElementTree import Element, ParseError, TreeBuilder, XMLParser

from airflow_provider_wiziq.api.protocol.errors import WizIQResponseError

#: No WizIQ answer nests deeper than 7 elements (``rsp/view_schedule/recurring_list/class_details/
#: presenter_list/presenter/presenter_url``): 32 leaves room for any wrapping and refuses a nesting bomb.
MAX_DEPTH = 32
#: The largest real answers (an attendance report of a full class, a page of 100 records of every
#: column) hold a few thousand elements; 50,000 is several times that.
MAX_ELEMENTS = 50_000
#: Bytes handed to expat at a time: the elements of one slice are counted, and its finished records built
#: and dropped, before the next is read; small, so a page never stands as more than a few records of tree.
_SLICE = 1024

_BOM = b"\xef\xbb\xbf"
_UTF16_STARTS = (b"\xfe\xff", b"\xff\xfe", b"\x00<", b"<\x00")
_SPACE = re.compile(rb"[ \t\r\n]*")
_ENCODING = re.compile(rb"[ \t\r\n]encoding[ \t\r\n]*=[ \t\r\n]*[\"']([A-Za-z0-9._-]{0,64})[\"']")
_DOCTYPE = re.compile(rb"<!doctype[ \t\r\n]+([A-Za-z_:][-A-Za-z0-9._:]{0,64})", re.IGNORECASE)
_HTML_ROOT = re.compile(rb"<html(?![-A-Za-z0-9._:])", re.IGNORECASE)
#: Encodings expat reads itself; any other must be a single-byte codec that leaves ASCII as it is.
_EXPAT_ENCODINGS = frozenset({"utf-8", "us-ascii", "iso-8859-1"})
_ASCII = bytes(range(128)).decode("ascii")

T = TypeVar("T")

#: An answer's bytes. The clients hand over the buffer they read the answer into, not a copy of it: a copy
#: would hold the answer twice while it is parsed.
Answer: TypeAlias = "bytes | bytearray"
#: What ``bytes.strip()`` strips (ASCII whitespace), matched instead of stripping a copy of the answer.
_ASCII_SPACE = re.compile(rb"[ \t\n\r\x0b\x0c]*")


class Records(Generic[T]):
    """The elements called ``name`` below an outermost ``<within>``, each built into a result as it closes.

    Once built, a record is cleared and taken out of its parent, so a long answer's tree holds at most the
    records of one slice. A record inside another record is built with it (in document order, as
    ``iter(name)`` finds them) when the outer one closes. Whatever the ``<within>`` element holds outside its
    records stays in the tree, to be found by name. ``build`` raising :class:`WizIQResponseError` is kept
    until :meth:`under` asks, so that an envelope or a malformed answer is reported first, as before.
    """

    __slots__ = ("_built", "_failed", "build", "name", "within")

    def __init__(self, name: str, within: str, build: Callable[[Element], T]) -> None:
        self.name = name
        self.within = within
        self.build = build
        self._built: dict[Element, list[T]] = {}
        self._failed: dict[Element, WizIQResponseError] = {}

    def take(self, record: Element, owner: Element) -> None:
        """Build ``record`` (and any record nested in it) for ``owner``; after a failure, only drop them."""
        built = self._built.get(owner)
        if built is None:
            if owner in self._failed:
                return
            built = self._built[owner] = []
        try:
            for each in record.iter(self.name):
                built.append(self.build(each))
        except WizIQResponseError as err:
            self._failed[owner] = err
            del self._built[owner]

    def under(self, owner: Element) -> list[T]:
        """The results built below ``owner``, in document order; raises the first record that failed."""
        failed = self._failed.get(owner)
        if failed is not None:
            raise failed
        return self._built.get(owner, [])


def read_xml(body: Answer, method: str, records: Records[T] | None = None) -> Element:
    """The answer's root element, without the ``records`` (if given), which are built as they close.

    Raises :class:`WizIQResponseError` saying what the body is instead: empty, an HTML page, a DTD
    (``hostile``), an encoding expat cannot read, too deep or too many elements (``too_large``), malformed.
    """
    if not body:
        raise WizIQResponseError("empty body", method=method)
    if _ASCII_SPACE.fullmatch(body):
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
        return _stream(body, method, records)
    except ParseError as err:
        raise WizIQResponseError(_describe_malformed(body, encoding, str(err)), method=method) from None
    except (LookupError, ValueError):  # expat's own encoding refusals, should a name pass the check above
        raise WizIQResponseError(f"XML in an encoding expat cannot read ({len(body)} bytes)", method=method) from None


def _declared_encoding(body: Answer) -> str | None:
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


def _check_prolog(body: Answer, method: str) -> None:
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


def _stream(body: Answer, method: str, records: Records[T] | None) -> Element:
    """Parse ``body`` slice by slice, refusing it as soon as it is nested too deep or holds too many elements.

    Both limits bound the tree, so its memory stays a small multiple of the answer's bytes. Events come a
    slice at a time, after the parser has built the whole slice: an element is only complete on its own
    ``end`` event, so a record is built and dropped there and then, never an ancestor still being filled.
    """
    parser = XMLParser(target=TreeBuilder())
    events: list[tuple[str, Element]] = []
    parser._setevents(events, ("start", "end"))  # type: ignore[attr-defined]  # XMLPullParser's own hook
    name, within = (records.name, records.within) if records is not None else (None, None)
    path: list[Element] = []  # the open elements outside any record, from the root down
    owner: Element | None = None  # the outermost open <within>
    record_depth = 0  # the depth of the open record below the owner; 0 when none is open
    depth = elements = 0
    max_depth = MAX_DEPTH  # a local: read once per start event
    view = memoryview(body)
    root: Element | None = None
    for offset in range(0, len(body) + _SLICE, _SLICE):  # the last step closes: its events come then
        if offset < len(body):
            parser.feed(view[offset : offset + _SLICE])
        else:
            root = parser.close()
        depth_before = depth
        for event, element in events:
            if event == "start":
                depth += 1
                if depth > max_depth:
                    raise _too_large(f"nested deeper than {MAX_DEPTH} elements", method)
                if record_depth:
                    continue  # inside a record: built whole when it ends
                if owner is not None and element.tag == name:
                    record_depth = depth
                    continue
                path.append(element)
                if owner is None and element.tag == within:
                    owner = element
            elif record_depth:
                if depth == record_depth:  # the record itself ends: it is complete, its parent is not
                    records.take(element, owner)  # type: ignore[union-attr,arg-type]  # set with record_depth
                    path[-1].remove(element)
                    element.clear()
                    record_depth = 0
                depth -= 1
            else:
                depth -= 1
                if path.pop() is owner:
                    owner = None
        elements += (len(events) + depth - depth_before) // 2  # starts: ends + the change in depth
        events.clear()
        if elements > MAX_ELEMENTS:
            raise _too_large(f"more than {MAX_ELEMENTS} elements", method)
    return root  # type: ignore[return-value]  # set by the last step


def _too_large(what: str, method: str) -> WizIQResponseError:
    return WizIQResponseError(f"{what}, more than any WizIQ answer holds", method=method, too_large=True)


def _describe_malformed(body: Answer, encoding: str | None, expat_message: str) -> str:
    """Why expat refused the body, in words; expat's own messages name positions, never content."""
    if encoding in (None, "utf-8", "utf8"):
        invalid = _first_invalid_utf8(body)
        if invalid is not None:
            return f"bytes that are not valid UTF-8 in a UTF-8 document (first at byte {invalid})"
    at = _ASCII_SPACE.match(body).end()  # type: ignore[union-attr]  # matches the empty string at least
    if body.startswith(_BOM, at):
        at = _ASCII_SPACE.match(body, at + len(_BOM)).end()  # type: ignore[union-attr]
    if not body.startswith(b"<", at):
        return f"not XML: {len(body)} bytes that do not start with '<' ({expat_message})"
    return f"truncated or malformed XML ({expat_message})"


def _first_invalid_utf8(body: Answer) -> int | None:
    """Where the first byte that is not UTF-8 is, read slice by slice; a sequence cut at the end is not one."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    for offset in range(0, len(body), _SLICE):
        pending = len(decoder.getstate()[0])
        try:
            decoder.decode(body[offset : offset + _SLICE])
        except UnicodeDecodeError as err:
            return offset - pending + err.start
    return None
