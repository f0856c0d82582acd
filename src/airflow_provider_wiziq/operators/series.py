"""``CreateRecurringClassOperator``: one WizIQ recurring class series per task, never booked twice."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, cast

from airflow_provider_wiziq._compat import AirflowFailException, BaseOperator, BaseOperatorLink
from airflow_provider_wiziq.api.protocol.vocabulary import CREATE_PARAMETERS, RECURRENCE_PARAMETERS
from airflow_provider_wiziq.api.protocol.words import counted
from airflow_provider_wiziq.failures import wiziq_failures
from airflow_provider_wiziq.operators.templating import RendersOnlyTemplates

if TYPE_CHECKING:
    from datetime import date, datetime, tzinfo

    from airflow.sdk import Context
    from airflow.sdk.types import TaskInstanceKey

    from airflow_provider_wiziq.api.protocol.request import CreateRecurringRequest
    from airflow_provider_wiziq.api.protocol.vocabulary import RepeatType, Weekday
    from airflow_provider_wiziq.api.rules.recurrence import ScheduledClass
    from airflow_provider_wiziq.hooks.wiziq import WizIQHook

#: Every ``create_recurring`` parameter, as WizIQ names it: the request model's own list.
CREATE_RECURRING_PARAMETERS = CREATE_PARAMETERS + RECURRENCE_PARAMETERS

#: Task state store key holding the created series' id, so a retry never creates a second one.
#: XCom key of the series' id when a try fails after the series exists (on success it is in the return value).
XCOM_CLASS_MASTER_ID = "class_master_id"
#: Where a create operator keeps its return value's ``presenter_url`` for the class link.
PRESENTER_URL_ATTRIBUTE = "_wiziq_presenter_url"


class WizIQClassLink(BaseOperatorLink):
    """Opens the first class of the series in WizIQ's virtual classroom, as its presenter.

    Airflow computes the link on the worker when the task ends (whether it succeeded or failed), with the task
    object that ran, and stores it as the link's own XCom. The URL is the return value's ``presenter_url``,
    which the operator also keeps on itself: reading the return value back from XCom would log an error for
    every failed try, which has none.
    """

    name = "WizIQ class"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        return getattr(operator, PRESENTER_URL_ATTRIBUTE, None) or ""


class CreateRecurringClassOperator(RendersOnlyTemplates, BaseOperator):
    """Create a WizIQ recurring class series (``create_recurring``), verified against its local preview.

    Keyword arguments are ``create_recurring``'s parameters by WizIQ's names, all templated; natural values
    are welcome (datetimes, ``"weekly"``, ``["monday", "wednesday"]``, ``15``). Besides them:

    :param wiziq_conn_id: the ``wiziq`` connection.
    :param dry_run: validate and preview the classes without creating anything.
    :param verify_schedule: after creating, read the series back with ``view_schedule``; a class that
        differs from the preview fails the task (on) or is logged as a warning (off).

    Returns (XCom ``return_value``) the series: ``class_master_id``, ``class_ids``, ``classes`` (``class_id``,
    ISO 8601 local ``start_time`` with offset, ``presenter_url``), ``recurring_summary``, ``presenter_url``,
    ``recording_url``. ``class_master_id`` is pushed under its own key as soon as the series exists.
    A retry never books twice: the id is kept in the task state store, and a retry that has none looks for
    the series on WizIQ before creating it. A lost answer or a 1032 for this very series adopts it. The rule
    for "this very series" is the provider's one rule (same title, presenter, time zone and first start).
    """

    template_fields: Sequence[str] = (*CREATE_RECURRING_PARAMETERS, "wiziq_conn_id")
    template_fields_renderers: ClassVar[dict[str, str]] = {"days_of_week": "json"}
    operator_extra_links = (WizIQClassLink(),)
    ui_color = "#e6f2ff"
    # The argument keeps WizIQ-like naming shared by the docs; it shadows BaseOperator.dry_run(), a method Airflow 3
    # never calls.
    dry_run: bool  # type: ignore[assignment]

    def __init__(
        self,
        *,
        title: str | None = None,
        start_time: datetime | date | str | None = None,
        class_repeat_type: RepeatType | int | str | None = None,
        class_occurrence: int | str | None = None,
        class_end_date: date | str | None = None,
        presenter_email: str | None = None,
        presenter_id: int | str | None = None,
        presenter_name: str | None = None,
        days_of_week: str | Sequence[str | Weekday] | None = None,
        specific_week: int | str | None = None,
        monthly_date: int | str | None = None,
        rdo_by_date: bool | str | None = None,
        monthly_day: int | str | None = None,
        monthly_week_day: Weekday | str | None = None,
        rdo_by_day: bool | str | None = None,
        duration: int | str | None = None,
        extend_duration: int | str | None = None,
        time_zone: str | tzinfo | None = None,
        attendee_limit: int | str | None = None,
        language_culture_name: str | None = None,
        presenter_default_controls: str | Sequence[str] | None = None,
        attendee_default_controls: str | Sequence[str] | None = None,
        create_recording: bool | str | None = None,
        return_url: str | None = None,
        status_ping_url: str | None = None,
        wiziq_conn_id: str = "wiziq_default",
        dry_run: bool = False,
        verify_schedule: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        given = locals()
        for name in CREATE_RECURRING_PARAMETERS:
            setattr(self, name, given[name])
        self.wiziq_conn_id = wiziq_conn_id
        self.dry_run = dry_run
        self.verify_schedule = verify_schedule

    def parameters(self) -> dict[str, Any]:
        """The rendered ``create_recurring`` parameters."""
        return {name: getattr(self, name) for name in CREATE_RECURRING_PARAMETERS}

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_wiziq.api.protocol.request import CreateRecurringRequest
        from airflow_provider_wiziq.hooks.wiziq import WizIQHook

        hook = WizIQHook(wiziq_conn_id=self.wiziq_conn_id)
        with wiziq_failures():
            request = CreateRecurringRequest.from_params(with_status_ping_url(self.parameters(), hook))
            preview = request.validate(limits=hook.limits)
        defaults = request.server_defaults()
        for name, meaning in defaults.items():
            self.log.warning("%s %s; give it explicitly to be sure", name, meaning)
        self.log.info(
            "Series %r: %s\n%s", request.title, counted(len(preview), "class"), preview_table(preview, defaults)
        )
        if self.dry_run:
            self.log.info("dry_run: nothing was created")
            return series_result(request, preview, class_master_id=None)
        with wiziq_failures():
            master_id, summary = self._create_once(hook, request, preview, context)
        try:
            with wiziq_failures():
                entries = hook.read_schedule(master_id)
            self._verify(preview, entries)
        except BaseException:
            # The series exists but this try ends without a return value: its id goes to XCom on its own.
            context["ti"].xcom_push(key=XCOM_CLASS_MASTER_ID, value=master_id)
            raise
        result = series_result(request, preview, class_master_id=master_id, entries=entries, summary=summary)
        setattr(self, PRESENTER_URL_ATTRIBUTE, result["presenter_url"])
        return result

    def _create_once(
        self, hook: WizIQHook, request: CreateRecurringRequest, preview: tuple[ScheduledClass, ...], context: Context
    ) -> tuple[int, str | None]:
        """The series' id, created now or found from an earlier try; and WizIQ's summary when created now."""
        from airflow_provider_wiziq.api.engine.ledger import read_series_id
        from airflow_provider_wiziq.api.rules.identity import identity_of

        store = context.get("task_state_store")
        stored = read_series_id(store)
        if stored:
            self.log.info("Series %s was created by an earlier try; reusing it", stored)
            return int(cast("int | str", stored)), None  # what _remember stored
        maker = hook.series_maker()
        ti = context["ti"]
        if ti.try_number > 1 and (found := maker.find(identity_of(request, preview[0].utc_start))) is not None:
            self.log.info("An earlier try created series %s (its answer was lost); adopting it", found)
            return self._remember(found, store), None
        made = maker.create_once(request, preview[0])
        if made.series is None:
            self.log.info("Series %s is this one (adopted after a lost answer or a 1032)", made.class_master_id)
            return self._remember(made.class_master_id, store), None
        self.log.info("Created series %s: %s", made.class_master_id, made.series.recurring_summary)
        return self._remember(made.class_master_id, store), made.series.recurring_summary

    def _remember(self, master_id: int, store: Any) -> int:
        """Record the series before anything else can fail, so no later try creates it again."""
        from airflow_provider_wiziq.api.engine.ledger import write_series_id

        write_series_id(store, master_id)
        return master_id

    def _verify(self, preview: Sequence[ScheduledClass], entries: Sequence[Any]) -> None:
        from airflow_provider_wiziq.api.engine.reconcile import first_difference

        difference = first_difference(preview, entries)
        if difference is None:
            return
        if self.verify_schedule:
            raise AirflowFailException(f"WizIQ's schedule differs from the preview: {difference}")
        self.log.warning("WizIQ's schedule differs from the preview: %s", difference)


def with_status_ping_url(params: Mapping[str, Any], hook: WizIQHook) -> dict[str, Any]:
    """``params`` with the connection's signed ``status_ping_url`` (:meth:`WizIQHook.status_ping_url`) unless they
    set their own; unchanged when the connection has none. Used where the request is built, never stored on the
    operator, so the URL's token reaches no rendered field."""
    params = dict(params)
    if not params.get("status_ping_url"):
        url = hook.status_ping_url()
        if url:
            params["status_ping_url"] = url
    return params


def series_result(
    request: CreateRecurringRequest,
    preview: Sequence[ScheduledClass],
    *,
    class_master_id: int | None,
    entries: Sequence[Any] = (),
    summary: str | None = None,
) -> dict[str, Any]:
    """The operator's JSON-serialisable return value; ids are None for a dry run."""
    from airflow_provider_wiziq.api.rules.recurrence import recurring_summary

    classes = []
    for index, scheduled in enumerate(preview):
        entry = entries[index] if index < len(entries) else None
        presenters = entry.presenters if entry is not None else ()
        classes.append(
            {
                "class_id": entry.class_id if entry is not None else None,
                "start_time": scheduled.local_start.isoformat(),
                "presenter_url": presenters[0].url if presenters else None,
            }
        )
    first_entry = entries[0] if entries else None
    return {
        "class_master_id": class_master_id,
        "class_ids": [c["class_id"] for c in classes],
        "classes": classes,
        "recurring_summary": summary or recurring_summary(request.recurrence_rule(), preview[0]),
        "presenter_url": classes[0]["presenter_url"] if classes else None,
        "recording_url": first_entry.recording_url if first_entry is not None else None,
    }


def preview_table(preview: Sequence[ScheduledClass], defaults: Mapping[str, str] | None = None) -> str:
    """A readable table of the classes: local time, UTC time, weekday, whether DST is in force, gap/fold notes;
    then a line for each surprising server default the request relies on (``request.server_defaults()``)."""
    lines = [f"{'#':>3}  {'local start':25}  {'UTC start':17}  {'weekday':9}  {'DST':3}  note"]
    for scheduled in preview:
        local = scheduled.local_start
        note = (
            f"gap: {scheduled.wall_clock:%H:%M} does not exist, moved to {local:%H:%M}"
            if scheduled.in_gap
            else f"fold: {local:%H:%M} happens twice, the first is taken"
            if scheduled.in_fold
            else ""
        )
        dst = "yes" if local.dst() else "no"
        lines.append(
            f"{scheduled.index + 1:>3}  {local.isoformat():25}  {scheduled.utc_start:%Y-%m-%d %H:%M}Z  "
            f"{local:%A}{'':{9 - len(f'{local:%A}')}}  {dst:3}  {note}".rstrip()
        )
    lines.extend(f"  * server default: {name} {meaning}" for name, meaning in (defaults or {}).items())
    return "\n".join(lines)


__all__ = [
    "CreateRecurringClassOperator",
    "WizIQClassLink",
]
