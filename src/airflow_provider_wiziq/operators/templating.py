"""Template rendering that leaves plain strings alone, so a list of thousands of specs costs no Jinja compiles.

Airflow renders a templated field by compiling every string in it as a Jinja template, about a
millisecond each: a bulk operator's 500 specs of seven strings spent seconds on every try rendering text
that holds no template. A string with none of the environment's markers renders to itself, so it is
returned as it is; anything else (a marker, a template file name, text Jinja would change, a native
environment, which would turn ``"30"`` into ``30``) goes through Airflow's rendering unchanged.
"""

from __future__ import annotations

import os
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
        return super().render_template(content, context, jinja_env, seen_oids)  # type: ignore[misc]


def dag_folder(task: BaseOperator) -> str | None:
    """The folder of the DAG file that defines ``task``: a relative path an operator reads is read from there (where
    Airflow also looks for templates first)."""
    return os.path.dirname(task.dag.fileloc) if task.has_dag() and task.dag.fileloc else None


def needs_rendering(text: str, env: jinja2.Environment, template_ext: tuple[str, ...] = ()) -> bool:
    """Whether rendering ``text`` in ``env`` could give anything but ``text`` itself."""
    from jinja2.nativetypes import NativeEnvironment

    if isinstance(env, NativeEnvironment) or (template_ext and text.endswith(template_ext)):
        return True
    markers = (
        env.block_start_string,
        env.variable_start_string,
        env.comment_start_string,
        env.line_statement_prefix,
        env.line_comment_prefix,
    )
    if any(marker and marker in text for marker in markers):
        return True
    # Jinja writes every line break as newline_sequence and drops one trailing newline unless told to keep it.
    if "\r" in text or ("\n" in text and env.newline_sequence != "\n"):
        return True
    return text.endswith("\n") and not env.keep_trailing_newline
