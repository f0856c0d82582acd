"""``WizIQCancelClassOperator``: cancel one class or every class of a series (rollback, cancelled terms)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from airflow_provider_wiziq._compat import AirflowFailException, BaseOperator
from airflow_provider_wiziq.api.protocol.words import counted
from airflow_provider_wiziq.failures import wiziq_failures

if TYPE_CHECKING:
    from airflow.sdk import Context


class WizIQCancelClassOperator(BaseOperator):
    """Cancel a class (``class_id``) or every class of a series (``class_master_id``).

    A class already cancelled (1033) counts as done, so the task is safe to retry. Cancelling a series skips
    the classes that can no longer be cancelled (in progress, completed, expired) and lists them; cancelling
    one such class fails the task without retries.

    Returns ``{"cancelled": [ids], "already_cancelled": [ids], "skipped": [{"class_id", "code", "message"}]}``.
    """

    template_fields: Sequence[str] = ("class_id", "class_master_id", "wiziq_conn_id")

    def __init__(
        self,
        *,
        class_id: int | str | None = None,
        class_master_id: int | str | None = None,
        wiziq_conn_id: str = "wiziq_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.class_id = class_id
        self.class_master_id = class_master_id
        self.wiziq_conn_id = wiziq_conn_id

    def execute(self, context: Context) -> dict[str, list[Any]]:
        from airflow_provider_wiziq.api.protocol.errors import (
            WizIQAPIError,
            is_already_cancelled,
            is_too_late_to_cancel,
        )
        from airflow_provider_wiziq.hooks.wiziq import WizIQHook

        if (self.class_id in (None, "")) == (self.class_master_id in (None, "")):
            # Exactly one target: a series id given by mistake must not cancel a whole series, or vice versa.
            raise AirflowFailException("Give class_id (one class) or class_master_id (a series), not both.")
        hook = WizIQHook(wiziq_conn_id=self.wiziq_conn_id)
        whole_series = self.class_id in (None, "")
        with wiziq_failures():
            if whole_series:
                # Exactly one of the two is given (checked above).
                targets = [entry.class_id for entry in hook.read_schedule(int(cast("int | str", self.class_master_id)))]
            else:
                targets = [int(cast("int | str", self.class_id))]
        outcome: dict[str, list[Any]] = {"cancelled": [], "already_cancelled": [], "skipped": []}
        for class_id in targets:
            with wiziq_failures():
                try:
                    hook.cancel(class_id)
                    outcome["cancelled"].append(class_id)
                except WizIQAPIError as error:
                    if is_already_cancelled(error):
                        outcome["already_cancelled"].append(class_id)
                    elif is_too_late_to_cancel(error) and whole_series:
                        outcome["skipped"].append({"class_id": class_id, "code": error.code, "message": error.message})
                    else:
                        raise
        self.log.info(
            "Cancelled %s; %s already cancelled; %d skipped (%s)",
            counted(len(outcome["cancelled"]), "class"),
            counted(len(outcome["already_cancelled"]), "class"),
            len(outcome["skipped"]),
            ", ".join(f"{s['class_id']}: {s['message']}" for s in outcome["skipped"]) or "none",
        )
        return outcome


__all__ = [
    "WizIQCancelClassOperator",
]
