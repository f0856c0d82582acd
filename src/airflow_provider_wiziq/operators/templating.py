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
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

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
