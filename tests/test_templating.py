"""Templated fields: strings without a template are left alone (no Jinja compile), templates still render."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import jinja2
import pytest
from airflow.sdk import DAG, BaseOperator
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2.sandbox import SandboxedEnvironment

from airflow_provider_wiziq.operators.templating import InBrief, RendersOnlyTemplates, needs_rendering
from airflow_provider_wiziq.operators.wiziq import CreateRecurringClassesOperator, CreateRecurringClassOperator
from tests.support.bulk import spec
from tests.sync_support import TERM_OPENS, section


def airflow_env(**options: object) -> jinja2.Environment:
    """The environment Airflow renders a task's fields in (a DAG's jinja_environment_kwargs become ``options``)."""
    with DAG("templating_env", schedule=None, start_date=datetime(2025, 1, 1), jinja_environment_kwargs=options):
        operator = CreateRecurringClassesOperator(task_id="bulk", series=[])
    return operator.get_template_env()


class CountingEnvironment(SandboxedEnvironment):
    """Airflow's kind of environment, counting the templates it compiles."""

    compiled = 0

    def from_string(self, source, *args, **kwargs):  # type: ignore[no-untyped-def]
        type(self).compiled += 1
        return super().from_string(source, *args, **kwargs)


@pytest.mark.parametrize(
    ("text", "rendered"),
    [
        ("Algebra I", False),
        ("2027-03-02T09:00", False),
        ("t1@school.example", False),
        ("{{ ds }}", True),
        ("Term {{ params.term }}", True),
        ("{% if true %}x{% endif %}", True),
        ("{# note #}Algebra", True),
        ("two\r\nlines", True),
        ("ends with a newline\n", True),
        ("two\nlines", False),
    ],
)
def test_a_string_is_rendered_only_when_it_could_change(text, rendered):
    assert needs_rendering(text, airflow_env()) is rendered


def test_the_environment_decides_what_a_marker_is():
    assert not needs_rendering("[[ ds ]]", airflow_env())
    custom = airflow_env(variable_start_string="[[", variable_end_string="]]")
    assert needs_rendering("[[ ds ]]", custom)
    assert not needs_rendering("{{ ds }}", custom)
    assert needs_rendering("# for x in y", airflow_env(line_statement_prefix="#"))
    assert not needs_rendering("ends\n", airflow_env(keep_trailing_newline=True))
    assert needs_rendering("sections.json", airflow_env(), (".json",))


def test_a_native_environment_always_renders():
    """A native environment turns "30" into 30: leaving strings alone there would change their type."""
    with DAG("native", schedule=None, start_date=datetime(2025, 1, 1), render_template_as_native_obj=True):
        operator = CreateRecurringClassesOperator(task_id="bulk", series=[{"key": "a", "attendee_limit": "30"}])
    env = operator.get_template_env()
    assert needs_rendering("30", env)
    operator.render_template_fields({}, env)
    assert operator.whole("series") == [{"key": "a", "attendee_limit": 30}]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40))
def test_a_string_left_alone_is_what_jinja_would_have_rendered(text):
    env = airflow_env()
    if not needs_rendering(text, env):
        assert env.from_string(text).render() == text


def test_bulk_specs_compile_only_their_templates():
    series = [spec(i) for i in range(50)]
    series[7] = spec(7, title="Section 7 ({{ params.term }})")
    series[31] = spec(31, start_time="{{ params.first_day }}T09:00")
    with DAG("bulk_templates", schedule=None, start_date=datetime(2025, 1, 1)):
        operator = CreateRecurringClassesOperator(task_id="bulk", series=series)
    CountingEnvironment.compiled = 0
    operator.render_template_fields({"params": {"term": "Fall", "first_day": "2027-02-01"}}, CountingEnvironment())
    assert CountingEnvironment.compiled == 2
    assert operator.whole("series")[7]["title"] == "Section 7 (Fall)"
    assert operator.whole("series")[31]["start_time"] == "2027-02-01T09:00"
    assert operator.whole("series")[0] == spec(0)


def test_the_single_operator_renders_its_templates_too():
    with DAG("single_templates", schedule=None, start_date=datetime(2025, 1, 1)):
        arguments = spec(1, title="{{ params.term }} algebra", presenter_email="t1@school.example")
        operator = CreateRecurringClassOperator(task_id="create", **{k: v for k, v in arguments.items() if k != "key"})
    CountingEnvironment.compiled = 0
    operator.render_template_fields({"params": {"term": "Fall"}}, CountingEnvironment())
    assert CountingEnvironment.compiled == 1
    assert operator.title == "Fall algebra"
    assert operator.presenter_email == "t1@school.example"


def rostered_term(sections: int = 40) -> list[dict[str, object]]:
    """A term as an upstream task hands it over: sections with rosters, numbers and empty values, no template."""
    return [
        {
            "key": f"S{n}",
            "title": f"Section {n}",
            "attendee_limit": 30,
            "duration": 45.5,
            "recorded": True,
            "note": None,
            "attendees": [{"attendee_id": f"s{n}-{i}", "screen_name": f"Student {i}"} for i in range(25)],
            "days": ("monday", "thursday"),
        }
        for n in range(sections)
    ]


def test_data_without_a_template_is_handed_over_as_it_is():
    """A term of thousands of values with no template is not walked value by value by Airflow's renderer."""
    from airflow_provider_wiziq.operators.wiziq import SyncTermOperator

    term = rostered_term()
    with DAG("sync_templates", schedule=None, start_date=datetime(2025, 1, 1)):
        operator = SyncTermOperator(task_id="sync", term="fall", sections=term, holidays=["2027-11-25"])
    CountingEnvironment.compiled = 0
    operator.render_template_fields({"params": {}}, CountingEnvironment())
    assert operator.whole("sections") is term and operator.whole("sections") == rostered_term()
    assert CountingEnvironment.compiled == 0


@pytest.mark.parametrize(
    "where",
    [
        lambda term: term[3]["attendees"][7].update(screen_name="{{ params.who }}"),
        lambda term: term[5].update(days=("monday", "{{ params.who }}")),
    ],
)
def test_a_template_deep_in_data_is_still_rendered(where):
    from airflow_provider_wiziq.operators.wiziq import SyncTermOperator

    term = rostered_term()
    where(term)
    with DAG("sync_deep_template", schedule=None, start_date=datetime(2025, 1, 1)):
        operator = SyncTermOperator(task_id="sync", term="fall", sections=term)
    CountingEnvironment.compiled = 0
    operator.render_template_fields({"params": {"who": "Ada"}}, CountingEnvironment())
    assert CountingEnvironment.compiled == 1
    rendered = operator.whole("sections")
    assert "Ada" in (rendered[3]["attendees"][7]["screen_name"], rendered[5]["days"][1])
    assert rendered[0] == rostered_term()[0] and isinstance(rendered[5]["days"], tuple)


def test_values_that_are_not_plain_data_go_through_airflows_renderer():
    """A set, or any object (an XComArg, a templated object), is left to Airflow, which knows what to do with it."""
    from airflow_provider_wiziq.operators.wiziq import SyncTermOperator

    with DAG("sync_other_values", schedule=None, start_date=datetime(2025, 1, 1)):
        operator = SyncTermOperator(task_id="sync", term="fall", sections=[{"key": "A", "tags": {"{{ params.who }}"}}])
    operator.render_template_fields({"params": {"who": "Ada"}}, CountingEnvironment())
    assert operator.whole("sections") == [{"key": "A", "tags": {"Ada"}}]


class AirflowRenders(BaseOperator):
    """Airflow's own rendering, to hold ours against (``.sql`` names a template file, as in many operators)."""

    template_fields = ("content",)
    template_ext = (".sql",)


class OursRenders(RendersOnlyTemplates, AirflowRenders):
    """The same operator with the provider's rendering."""


TEMPLATES = {"query.sql": "select {{ params.who }}"}
PLAIN_TEXT = st.sampled_from(["Algebra", "", "30", "two\nlines", "t1@school.example"])
TEMPLATED_TEXT = st.sampled_from(["{{ params.who }}", "{# note #}x", "query.sql", "ends\n", "a\r\nb", "{{ 30 }}"])


def plain_data(text: st.SearchStrategy[str]) -> st.SearchStrategy[object]:
    """Dicts, lists and tuples of ``text``, numbers, booleans and None, nested; dict keys may look like templates."""
    leaves = text | st.integers() | st.floats(allow_nan=False) | st.booleans() | st.none()
    keys = st.sampled_from(["key", "{{ params.who }}", "query.sql"])
    return st.recursive(
        leaves,
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.lists(inner, max_size=4).map(tuple)
            | st.dictionaries(keys, inner, max_size=3)
        ),
        max_leaves=12,
    )


def shape(value: object) -> object:
    """``value`` with the type of every container and value in it, so a tuple is never equal to a list."""
    if isinstance(value, dict):
        return (type(value), [(key, shape(item)) for key, item in value.items()])
    if isinstance(value, list | tuple | set):
        return (type(value), [shape(item) for item in value])
    return (type(value), value)


def renderers(*, native: bool = False) -> tuple[BaseOperator, BaseOperator]:
    """Airflow's renderer and the provider's, in one DAG's environment."""
    with DAG(
        f"templating_against_airflow_{native}",
        schedule=None,
        start_date=datetime(2025, 1, 1),
        render_template_as_native_obj=native,
        jinja_environment_kwargs={"loader": jinja2.DictLoader(TEMPLATES)},
    ):
        return AirflowRenders(task_id="airflow"), OursRenders(task_id="ours")


CONTEXT = {"params": {"who": "Ada"}}


def both_render(content: object, *, native: bool = False) -> tuple[object, object]:
    """``content`` rendered by Airflow's renderer and by the provider's."""
    airflow, ours = renderers(native=native)
    return airflow.render_template(content, CONTEXT), ours.render_template(content, CONTEXT)  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None)
@given(plain_data(PLAIN_TEXT | TEMPLATED_TEXT), st.booleans())
def test_plain_data_renders_as_airflow_renders_it(content, native):
    """Whatever the data holds (a marker, a template file's name, text Jinja would change, keys that look like
    templates), in a string or a native environment, the result is Airflow's: same values, same types."""
    airflow, ours = both_render(content, native=native)
    assert shape(ours) == shape(airflow)


@settings(max_examples=50, deadline=None)
@given(plain_data(PLAIN_TEXT))
def test_plain_data_without_a_template_is_returned_as_it_is(content):
    airflow, ours = both_render(content)
    assert ours is content and shape(ours) == shape(airflow)


def test_a_native_environment_renders_numbers_in_data():
    """Native rendering turns "30" into 30 anywhere in the data, as Airflow does."""
    airflow, ours = both_render({"limits": ("30", [None, "45"])}, native=True)
    assert ours == airflow == {"limits": (30, [None, 45])}


def test_shared_and_cyclic_data():
    """Data met twice is looked at once: a shared section, or a cycle (which Airflow's renderer would follow until
    RecursionError), holding no template is returned as it is; a shared one holding a template renders as Airflow's."""
    shared = {"title": "Algebra", "days": ("monday",)}
    assert both_render([shared, shared, {"again": shared}])[1][0] is shared
    cyclic: list[object] = ["Algebra", 30]
    cyclic.append({"back": cyclic})
    assert renderers()[1].render_template(cyclic, CONTEXT) is cyclic  # type: ignore[arg-type]
    templated = {"title": "{{ params.who }}"}
    airflow, ours = both_render([templated, (templated,)])
    assert shape(ours) == shape(airflow) == shape([{"title": "Ada"}, ({"title": "Ada"},)])


def test_subclassed_containers_are_left_to_airflow():
    """An OrderedDict, a named tuple or a set holding plain text is Airflow's to render (it may change its type)."""
    from collections import OrderedDict, namedtuple

    Pair = namedtuple("Pair", "first second")
    for content in (OrderedDict(title="Algebra"), Pair("Algebra", 30), {"Algebra"}, [Pair("{{ params.who }}", 1)]):
        airflow, ours = both_render(content)
        assert shape(ours) == shape(airflow)


# A long rendered field kept in brief ----------------------------------------------------------------------------


def rendered_fields(dag_run: Any, task_id: str) -> dict[str, Any]:
    """What Airflow stored of a task's rendered fields (the UI's Rendered Template view)."""
    from airflow.models.renderedtifields import RenderedTaskInstanceFields

    from tests.dagtest import task_instances

    fields = RenderedTaskInstanceFields.get_templated_fields(task_instances(dag_run)[task_id])
    assert fields is not None
    return dict(fields)


@pytest.mark.wiziq_emulator(clock_start=TERM_OPENS)
def test_a_long_rendered_term_is_stored_as_a_line_saying_what_it_holds(wiziq_emulator):
    """Airflow keeps the first 4,096 characters of a long rendered field, after walking the whole of it through
    its secrets masker (0.2 s of every try for 500 sections with rosters); the operators keep a line saying what
    it holds instead, and read the whole value."""
    from airflow_provider_wiziq.operators.wiziq import SyncTermOperator
    from tests.dagtest import run_dag

    sections = [section(f"F27-{n:03d}") for n in range(20)]  # about 5,000 characters
    few = ["2027-09-06", "2027-11-25"]
    with DAG("templating_brief", schedule=None, start_date=datetime(2025, 1, 1)) as dag:
        SyncTermOperator(task_id="sync", term="brief", sections=sections, holidays=few, max_calls_per_second=None)
    dag_run = run_dag(dag)

    assert dag_run.state == "success"
    stored = rendered_fields(dag_run, "sync")
    assert stored["holidays"] == few  # short: stored whole, as Airflow does
    brief = stored["sections"]
    assert isinstance(brief, str) and len(brief) <= 4096
    assert brief.startswith("20 sections, ") and "F27-000, F27-001, F27-002, ..., F27-019" in brief
    assert "Truncated" not in brief and "presenter_email" not in brief  # no row's content
    assert len(wiziq_emulator.series()) == 20 * 2  # the whole term was read: each section is two series


def test_every_operator_with_a_list_field_keeps_a_long_one_in_brief_through_airflows_own_serializer():
    from airflow.sdk.execution_time.task_runner import _serialize_rendered_fields

    from airflow_provider_wiziq.operators.wiziq import WizIQAddAttendeesOperator

    with DAG("templating_brief_all", schedule=None, start_date=datetime(2025, 1, 1)):
        bulk = CreateRecurringClassesOperator(task_id="bulk", series=[spec(n) for n in range(100)])
        few = CreateRecurringClassesOperator(task_id="few", series=[spec(n) for n in range(3)])
        people = [{"attendee_id": f"s{n}", "screen_name": f"Student {n}"} for n in range(400)]
        enroll = WizIQAddAttendeesOperator(task_id="enroll", class_id=15001, attendees=people)
    for operator in (bulk, few, enroll):
        operator.render_template_fields({})
    assert _serialize_rendered_fields(bulk)["series"].startswith("100 series, S-0000, S-0001")
    assert _serialize_rendered_fields(few)["series"] == [spec(n) for n in range(3)]
    assert _serialize_rendered_fields(enroll)["attendees"].startswith("400 attendees, s0, s1, s2, ..., s399")
    assert bulk.whole("series") == [spec(n) for n in range(100)] and isinstance(bulk.series, InBrief)


def test_a_brief_names_its_items_and_digests_the_whole_value():
    from airflow_provider_wiziq.operators.templating import Noun, in_brief

    rows = [{"key": f"S{n}", "title": f"Section {n}"} for n in range(500)]
    line = in_brief(rows, Noun("section", "sections", "key"), limit=4096)
    assert line.startswith("500 sections, ")
    assert "S0, S1, S2, ..., S499" in line and "sha256 " in line
    assert in_brief(list(reversed(rows)), Noun("section", "sections", "key"), limit=4096) != line
    assert in_brief([{"title": "x"}] * 3000, Noun("spec", "specs", "key"), limit=4096).startswith("3000 specs (")
    assert in_brief({"2027-09-06": "A"}, Noun("day", "days"), limit=4096).startswith("1 day, ")
    assert len(in_brief([{"key": "k" * 5000}], Noun("section", "sections", "key"), limit=200)) <= 200
