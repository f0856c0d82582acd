"""The one place that knows which Airflow this runs on (3.1 and later).

Names that moved between minors come from ``apache-airflow-providers-common-compat``, which tries the task SDK
path first and falls back to the older one, as Airflow's own providers do: importing them from here never
warns on 3.3. What only a newer Airflow has is a flag below; callers branch on the flag, never on a version.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType
from typing import Any, cast

from airflow.providers.common.compat.connection import get_async_connection
from airflow.providers.common.compat.sdk import (
    AirflowException,
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
    BaseHook,
    BaseOperator,
    BaseOperatorLink,
    BaseSensorOperator,
    PokeReturnValue,
    TaskDeferred,
    conf,
)
from airflow.providers.common.compat.version_compat import AIRFLOW_V_3_2_PLUS, AIRFLOW_V_3_3_PLUS

#: ``context["task_state_store"]`` (3.3): without it a retry finds its series by looking them up in WizIQ.
HAS_TASK_STATE_STORE: bool = AIRFLOW_V_3_3_PLUS
#: ``context["asset_state_store"]`` (3.3): the term ledger lives there; without it term sync refuses to run.
HAS_ASSET_STATE_STORE: bool = AIRFLOW_V_3_3_PLUS
#: ``airflow.sdk.Variable.set`` and ``delete`` raise when the API refuses (3.3); before, they log and return.
VARIABLE_WRITES_RAISE: bool = AIRFLOW_V_3_3_PLUS


#: Where each Airflow keeps ``mask_secret`` (task SDK first, as common-compat orders them; not every
#: common-compat the provider accepts names it).
_MASK_SECRET_HOMES = (
    "airflow.sdk.log",
    "airflow.sdk.execution_time.secrets_masker",
    "airflow.utils.log.secrets_masker",
)


def _mask_secret_function() -> Callable[[Any, str | None], None]:
    for home in _MASK_SECRET_HOMES:
        try:
            return cast("Callable[[Any, str | None], None]", importlib.import_module(home).mask_secret)
        except (ImportError, AttributeError):
            continue
    raise ImportError("this Airflow has no mask_secret in " + ", ".join(_MASK_SECRET_HOMES))


def mask_secret(secret: str) -> None:
    """Register ``secret`` with Airflow's secrets masker, so log lines show ``***`` in its place (in the task
    process and, inside a task, its supervisor)."""
    _mask_secret_function()(secret, None)


async def amask_secret(secret: str) -> None:
    """:func:`mask_secret` from a coroutine (a trigger): Airflow 3.3's own ``amask_secret`` where there is one;
    elsewhere the synchronous call in a worker thread, since it may talk to the supervisor, and a synchronous
    call on the event loop can deadlock there (as ``get_async_connection`` says of Airflow before 3.3.2)."""
    try:
        from airflow.sdk.log import amask_secret as own
    except ImportError:
        from asgiref.sync import sync_to_async

        await sync_to_async(mask_secret)(secret)
    else:
        await own(secret, None)


def dagbag_module() -> ModuleType:
    """Airflow's DagBag module (``DagBag``, ``sync_bag_to_db``), for running DAGs in tests: it moved in 3.2."""
    return importlib.import_module("airflow.dag_processing.dagbag" if AIRFLOW_V_3_2_PLUS else "airflow.models.dagbag")


__all__ = [
    "HAS_ASSET_STATE_STORE",
    "HAS_TASK_STATE_STORE",
    "VARIABLE_WRITES_RAISE",
    "AirflowException",
    "AirflowFailException",
    "AirflowSensorTimeout",
    "AirflowSkipException",
    "BaseHook",
    "BaseOperator",
    "BaseOperatorLink",
    "BaseSensorOperator",
    "PokeReturnValue",
    "TaskDeferred",
    "amask_secret",
    "conf",
    "dagbag_module",
    "get_async_connection",
    "mask_secret",
]
