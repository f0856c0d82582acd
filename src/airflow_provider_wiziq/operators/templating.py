"""Template rendering that leaves plain strings alone, so a list of thousands of specs costs no Jinja compiles.

Airflow renders a templated field by compiling every string in it as a Jinja template, about a
millisecond each: a bulk operator's 500 specs of seven strings spent seconds on every try rendering text
that holds no template. A string with none of the environment's markers renders to itself, so it is
returned as it is; anything else (a marker, a template file name, text Jinja would change, a native
environment, which would turn ``"30"`` into ``30``) goes through Airflow's rendering unchanged. Plain data
(dicts, lists and tuples of such strings, numbers and None: a term an upstream task hands over) is looked
through once and returned as it is (the same object, where Airflow would build a copy: the operators only read
it), rather than walked by Airflow's renderer one call a value; data holding anything that could render goes
through Airflow's renderer whole, so it renders exactly as Airflow renders it (tests/test_templating.py holds the
two against each other).

A rendered list or mapping longer than Airflow keeps of a rendered field (``[core] max_templated_field_length``)
is kept for Airflow's Rendered Template view as a line saying what it holds (:class:`KeepsLongFieldsInBrief`).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from airflow_provider_wiziq.api.protocol.words import counted

if TYPE_CHECKING:
    import jinja2
    from airflow.sdk import BaseOperator, Context


class RendersOnlyTemplates:
    """Mix into an operator (before ``BaseOperator``) to skip Jinja for strings that hold no template."""

    template_ext: Any

    def render_template(
        self,
        content: Any,
        context: Context,
        jinja_env: jinja2.Environment | None = None,
        seen_oids: set[int] | None = None,
    ) -> Any:
        if isinstance(content, str):
            env = jinja_env or self.get_template_env()  # type: ignore[attr-defined]
            if not needs_rendering(content, env, tuple(self.template_ext)):
                return content
        elif type(content) in _CONTAINERS:
            env = jinja_env or self.get_template_env()  # type: ignore[attr-defined]
            if not holds_templates(content, env, tuple(self.template_ext)):
                return content
        return super().render_template(content, context, jinja_env, seen_oids)  # type: ignore[misc]


#: Containers of plain data that rendering rebuilds as they are (Airflow renders their values, never dict keys).
_CONTAINERS = (dict, list, tuple)
#: Values rendering returns as they are.
_UNRENDERED = (int, float, bool, type(None))


def holds_templates(content: Any, env: jinja2.Environment, template_ext: tuple[str, ...] = ()) -> bool:
    """Whether rendering ``content`` (plain data: dicts, lists, tuples, strings, numbers, None) could change any
    value in it. Anything else (a set, an XComArg, an object with templated fields) answers True: Airflow's
    renderer knows what to do with it. A term handed over by an upstream task is tens of thousands of values,
    which Airflow's renderer would walk one call at a time on every try."""
    changes = _string_test(env, template_ext)
    seen: set[int] = set()
    stack = [content]
    while stack:
        value = stack.pop()
        kind = type(value)
        if kind is str:
            if changes(value):
                return True
        elif kind in _CONTAINERS:
            if id(value) in seen:
                continue  # met before (shared, or a cycle): looked at once is enough
            seen.add(id(value))
            stack.extend(value.values() if kind is dict else value)
        elif kind not in _UNRENDERED:
            return True
    return False


class Noun(NamedTuple):
    """What a field's items are called in its brief, and the item key that names each (None: the item itself)."""

    singular: str
    plural: str
    name: str | None = None


class InBrief:
    """A rendered field kept in brief: the operator reads :attr:`value`; Airflow stores :meth:`serialize`."""

    __slots__ = ("line", "value")

    def __init__(self, value: Any, line: str) -> None:
        self.value = value
        self.line = line

    def serialize(self) -> str:
        return self.line

    def __str__(self) -> str:
        return self.line

    __repr__ = __str__


class KeepsLongFieldsInBrief:
    """Mix into an operator (before ``BaseOperator``): a field of ``template_fields_in_brief`` whose rendered list
    or mapping is longer than Airflow keeps of a rendered field (``[core] max_templated_field_length``, measured
    as Airflow does, on its ``str()``) is kept for the Rendered Template view as a line saying what it holds: how
    many items, the first and last names, its length and digest. Airflow would keep its first characters behind
    "Truncated.", after walking the whole value through its secrets masker: 0.2 s of every try for a 500-section
    term with rosters, a third of the sync's own CPU on an unchanged day; the line costs 0.01 s. A value that
    fits is stored whole, as Airflow does. The operator reads the whole value with :meth:`whole`."""

    template_fields_in_brief: ClassVar[Mapping[str, Noun]] = {}

    def render_template_fields(self, context: Context, jinja_env: jinja2.Environment | None = None) -> None:
        super().render_template_fields(context, jinja_env)  # type: ignore[misc]
        from airflow_provider_wiziq._compat import conf

        limit = conf.getint("core", "max_templated_field_length", fallback=4096)
        for field, noun in self.template_fields_in_brief.items():
            value = getattr(self, field)
            if type(value) in _CONTAINERS and len(text := str(value)) > limit:
                setattr(self, field, InBrief(value, in_brief(value, noun, limit=limit, text=text)))

    def whole(self, field: str) -> Any:
        """A templated field's value as rendered (a field kept in brief included)."""
        value = getattr(self, field)
        return value.value if isinstance(value, InBrief) else value


def in_brief(value: Any, noun: Noun, *, limit: int, text: str | None = None) -> str:
    """``500 sections, F27-000, F27-001, F27-002, ..., F27-499 (869,021 characters, sha256 1a2b3c4d5e6f; ...)``:
    the items of a list (the keys of a mapping), named by ``noun.name`` where each has one, at most ``limit``
    characters. No item's content is shown: a brief holds no value the secrets masker would have to find."""
    text = str(value) if text is None else text
    items = list(value)
    names = [_name(item, noun.name) for item in items]
    line = counted(len(items), noun.singular, noun.plural)
    if names and all(name is not None for name in names):
        shown = names if len(names) <= 4 else [*names[:3], "...", names[-1]]
        line += ", " + ", ".join(str(name) for name in shown)
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    line += (
        f" ({len(text):,} characters, sha256 {digest}; kept in brief: longer than [core] "
        f"max_templated_field_length, {limit})"
    )
    return line if len(line) <= limit else line[: max(limit - 3, 0)] + "..."


def _name(item: Any, key: str | None) -> str | int | None:
    if isinstance(item, str):
        return item
    named = item.get(key) if key is not None and isinstance(item, Mapping) else None
    return named if isinstance(named, (str, int)) and not isinstance(named, bool) else None


def dag_folder(task: BaseOperator) -> str | None:
    """The folder of the DAG file that defines ``task``: a relative path an operator reads is read from there (where
    Airflow also looks for templates first)."""
    return os.path.dirname(task.dag.fileloc) if task.has_dag() and task.dag.fileloc else None


def needs_rendering(text: str, env: jinja2.Environment, template_ext: tuple[str, ...] = ()) -> bool:
    """Whether rendering ``text`` in ``env`` could give anything but ``text`` itself."""
    return _string_test(env, template_ext)(text)


def _string_test(env: jinja2.Environment, template_ext: tuple[str, ...]) -> Callable[[str], bool]:
    """:func:`needs_rendering` for ``env``, its markers worked out once."""
    from jinja2.nativetypes import NativeEnvironment

    if isinstance(env, NativeEnvironment):
        return lambda text: True
    markers = tuple(
        marker
        for marker in (
            env.block_start_string,
            env.variable_start_string,
            env.comment_start_string,
            env.line_statement_prefix,
            env.line_comment_prefix,
            "\r",  # Jinja writes every line break as newline_sequence ...
            "\n" if env.newline_sequence != "\n" else None,
        )
        if marker
    )
    trailing = () if env.keep_trailing_newline else ("\n",)  # ... and drops one trailing newline unless told not to
    endings = (*template_ext, *trailing)

    def changes(text: str) -> bool:
        return any(marker in text for marker in markers) or bool(endings and text.endswith(endings))

    return changes
