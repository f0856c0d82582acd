"""The ledger stores: every store keeps the same contract (tests/support/stores.py), in the test process and, for
Airflow's Variables and object storage, inside a task run by ``dag.test()`` on whichever Airflow runs the suite."""

from __future__ import annotations

import os
import threading
import uuid
from datetime import datetime
from typing import Any
from unittest import mock

import fsspec
import pytest

from airflow_provider_wiziq.api.engine.stores import (
    VALUE_LIMIT,
    CountingStore,
    FsspecStore,
    MemoryStore,
    StoreError,
    StoreIOError,
    UnreadableValueError,
)
from tests.support.stores import CHECKS, run_checks


def _memory() -> tuple[Any, Any]:
    store = MemoryStore()
    return store, store.data.__setitem__


def _counting() -> tuple[Any, Any]:
    inner = MemoryStore()
    return CountingStore(inner), inner.data.__setitem__


def _fsspec(fs: Any, root: str) -> tuple[Any, Any]:
    store = FsspecStore(fs, root)

    def corrupt(key: str, raw: bytes) -> None:
        path = store.path(key)
        fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        fs.pipe_file(path, raw)

    return store, corrupt


@pytest.fixture(params=["memory", "counting", "fsspec-file", "fsspec-memory"])
def store_and_corrupt(request, tmp_path):
    if request.param == "memory":
        yield _memory()
    elif request.param == "counting":
        yield _counting()
    elif request.param == "fsspec-file":
        yield _fsspec(fsspec.filesystem("file"), f"file://{tmp_path}/ledger")
    else:
        fs = fsspec.filesystem("memory")
        root = f"memory://wiziq-tests/{uuid.uuid4().hex}"
        yield _fsspec(fs, root)
        if fs.exists(root):
            fs.rm(root, recursive=True)


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_each_store_keeps_the_contract(store_and_corrupt, check):
    store, corrupt = store_and_corrupt
    CHECKS[check](store, corrupt)


def test_the_memory_store_and_the_counting_store_count_calls_and_bytes():
    inner = MemoryStore()
    counting = CountingStore(inner, count_bytes=True)
    counting.set("k", {"a": 1})
    counting.get("k")
    counting.get("missing")
    counting.delete("k")
    assert (counting.calls.get, counting.calls.set, counting.calls.delete) == (2, 1, 1)
    assert counting.calls.total == 4 and counting.calls.bytes_set == len(b'{"a":1}')
    assert (inner.calls.get, inner.calls.set, inner.calls.delete, inner.calls.bytes_set) == (2, 1, 1, 7)
    assert str(inner.calls) == "2 / 1 / 1 (get / set / delete)"
    assert CountingStore(MemoryStore()).calls.bytes_set == 0  # bytes are counted only when asked


def test_the_counting_store_counts_calls_from_many_threads():
    counting = CountingStore(MemoryStore())

    def work(number: int) -> None:
        for item in range(200):
            counting.set(f"t{number}/{item}", item)
            counting.get(f"t{number}/{item}")

    threads = [threading.Thread(target=work, args=(number,)) for number in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (counting.calls.get, counting.calls.set) == (800, 800)


def test_a_local_object_is_replaced_whole_and_leaves_no_temporary_file(tmp_path):
    store = FsspecStore(fsspec.filesystem("file"), str(tmp_path))
    store.set("3f9a/s/0", {"n": 1})
    store.set("3f9a/s/0", {"n": 2})
    assert (tmp_path / "3f9a" / "s" / "0.json").read_bytes() == b'{"n":2}'
    assert sorted(path.name for path in tmp_path.rglob("*") if path.is_file()) == ["0.json"]


def test_a_failed_local_write_keeps_the_old_object_and_removes_its_temporary_file(tmp_path, monkeypatch):
    store = FsspecStore(fsspec.filesystem("file"), str(tmp_path))
    store.set("head", {"n": 1})

    def no_room(source: str, target: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", no_room)
    with pytest.raises(StoreIOError, match=r"write the ledger object .*head\.json: OSError") as caught:
        store.set("head", {"n": 2})
    assert caught.value.transient
    monkeypatch.undo()
    assert store.get("head") == {"n": 1}
    assert [path.name for path in tmp_path.iterdir()] == ["head.json"]


def test_a_filesystem_failure_is_a_transient_store_error_naming_the_object():
    class Broken:
        protocol = ("broken",)

        @staticmethod
        def _strip_protocol(path: str) -> str:
            return path.removeprefix("broken://")

        def cat_file(self, path: str, *args: Any, **kwargs: Any) -> bytes:
            raise ConnectionResetError("peer went away")

        pipe_file = rm_file = cat_file

    store = FsspecStore(Broken(), "broken://bucket/ledger")
    for call in (lambda: store.get("k"), lambda: store.set("k", 1), lambda: store.delete("k")):
        with pytest.raises(
            StoreIOError, match=r"bucket/ledger/k\.json: ConnectionResetError: peer went away"
        ) as caught:
            call()
        assert caught.value.transient


def test_an_object_over_the_limit_is_read_no_further_than_the_limit(tmp_path):
    fs = fsspec.filesystem("file")
    store = FsspecStore(fs, str(tmp_path))
    (tmp_path / "huge.json").write_bytes(b"[" + b"1," * (4 * VALUE_LIMIT) + b"1]")
    reads = []
    original = fs.cat_file

    def recording(path: str, start: Any = None, end: Any = None, **kwargs: Any) -> bytes:
        data = original(path, start=start, end=end, **kwargs)
        reads.append(len(data))
        return data

    fs_proxy = type("Proxy", (), {"cat_file": staticmethod(recording), "_strip_protocol": fs._strip_protocol})()
    proxied = FsspecStore(fs_proxy, str(tmp_path))
    with pytest.raises(UnreadableValueError, match="over 61440 bytes"):
        proxied.get("huge")
    assert reads == [VALUE_LIMIT + 1]
    with pytest.raises(UnreadableValueError):
        store.get("huge")


def test_a_folder_where_an_object_should_be_is_unreadable(tmp_path):
    (tmp_path / "k.json").mkdir()
    with pytest.raises(UnreadableValueError, match="folder"):
        FsspecStore(fsspec.filesystem("file"), str(tmp_path)).get("k")


def test_store_errors_are_in_the_providers_error_family():
    from airflow_provider_wiziq.api.protocol.errors import WizIQError

    assert issubclass(StoreError, WizIQError)
    assert issubclass(UnreadableValueError, StoreError) and issubclass(StoreIOError, StoreError)
    assert not UnreadableValueError("k", "why").transient


# Inside Airflow ------------------------------------------------------------------------------------------------


def refused_writes_raise(store: Any) -> str:
    """In a task: make the API refuse Variable writes (as the supervisor reports an API error) and see them raise.

    Before Airflow 3.3 ``Variable.set`` and ``delete`` log such an error and return: a ledger write lost in silence.
    """
    from airflow.sdk.exceptions import AirflowRuntimeError, ErrorType
    from airflow.sdk.execution_time import task_runner
    from airflow.sdk.execution_time.comms import DeleteVariable, ErrorResponse, PutVariable

    channel = type(task_runner.SUPERVISOR_COMMS)
    send = channel.send

    def refusing(self: Any, message: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(message, (PutVariable, DeleteVariable)):
            raise AirflowRuntimeError(ErrorResponse(error=ErrorType.GENERIC_ERROR, detail={"status_code": 500}))
        return send(self, message, *args, **kwargs)

    with mock.patch.object(channel, "send", refusing):
        try:
            for call in (lambda: store.set("refused", 1), lambda: store.delete("refused")):
                with pytest.raises(StoreIOError, match="Variable wiziq_term_checks/refused: AirflowRuntimeError"):
                    call()
        except BaseException as error:  # pytest's failure: the write was lost in silence
            return str(error)
    return "raised"


@pytest.fixture(scope="module")
def airflow_store_outcomes(tmp_path_factory):
    """One DAG run: a task checks the Variable store, another the object store; each returns its outcomes."""
    from airflow.sdk import DAG, task

    from airflow_provider_wiziq.stores import object_store, variable_store
    from tests.dagtest import run_dag, task_instances

    root = tmp_path_factory.mktemp("object-ledger")
    shadow_name = "AIRFLOW_VAR_WIZIQ_TERM_CHECKS/SHADOWED"

    with DAG("ledger_stores_in_a_task", schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:

        @task
        def variables() -> dict[str, str]:
            from airflow.sdk import Variable

            from airflow_provider_wiziq.stores import _set_variable

            store = variable_store("checks")

            def corrupt(key: str, raw: bytes) -> None:
                _set_variable(store.name(key), raw.decode("utf-8", "replace").replace("\x00", ""), "test")

            outcomes = run_checks(store, corrupt)
            store.set("3f9a/head", {"n": 1})
            outcomes["named"] = repr(Variable.get("wiziq_term_checks/3f9a/head"))
            store.set("shadowed", "from the database")
            outcomes["shadowed"] = repr(store.get("shadowed"))
            outcomes["refused"] = refused_writes_raise(store)
            return outcomes

        @task
        def objects() -> dict[str, str]:
            store = object_store(f"file://{root}")

            def corrupt(key: str, raw: bytes) -> None:
                (root / f"{key}.json").parent.mkdir(parents=True, exist_ok=True)
                (root / f"{key}.json").write_bytes(raw)

            outcomes = run_checks(store, corrupt)
            store.set("3f9a/head", {"n": 1})
            outcomes["named"] = (root / "3f9a" / "head.json").read_text()
            with pytest.raises(StoreError, match="no-such-scheme"):
                object_store("no-such-scheme://user:hunter2@host/ledger")
            try:
                object_store("no-such-scheme://user:hunter2@host/ledger")
            except StoreError as error:
                outcomes["credentials"] = "hidden" if "hunter2" not in str(error) else str(error)
            return outcomes

        variables()
        objects()

    os.environ[shadow_name] = '"from a secret"'
    try:
        dag_run = run_dag(dag)
    finally:
        del os.environ[shadow_name]
    instances = task_instances(dag_run)
    return {
        name: instances[name].xcom_pull(task_ids=name) or {"run": str(instances[name].state)}
        for name in ("variables", "objects")
    }


@pytest.mark.parametrize("store", ["variables", "objects"])
@pytest.mark.parametrize("check", sorted(CHECKS))
def test_each_airflow_store_keeps_the_contract_inside_a_task(airflow_store_outcomes, store, check):
    assert airflow_store_outcomes[store].get(check) == "ok", airflow_store_outcomes[store]


def test_the_variable_store_names_its_variables_after_the_term_and_a_secret_shadows_them(airflow_store_outcomes):
    outcomes = airflow_store_outcomes["variables"]
    assert outcomes["named"] == repr('{"n":1}')
    assert outcomes["shadowed"] == repr("from a secret")  # the environment's secret wins over the database
    assert outcomes["refused"] == "raised"  # a write the API refuses is an error on every Airflow


def test_the_object_store_keeps_one_json_object_per_key_and_hides_credentials(airflow_store_outcomes):
    outcomes = airflow_store_outcomes["objects"]
    assert outcomes["named"] == '{"n":1}'
    assert outcomes["credentials"] == "hidden"


def test_the_airflow_stores_refuse_bad_terms_and_paths():
    from airflow_provider_wiziq.stores import object_store, variable_store

    for term in ("", "a/b", "-x", "x" * 101, None):
        with pytest.raises(StoreError, match="term"):
            variable_store(term)  # type: ignore[arg-type]
    for path in ("", "  ", None, 5):
        with pytest.raises(StoreError, match="ledger_path"):
            object_store(path)
    assert len(variable_store("x" * 100).name("k" * 128)) <= 250  # Airflow's limit on a Variable's name
