"""What the deployment test talks to: Airflow's REST API (as a user's tooling would) and the emulator's control API."""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Any

import requests

from tests.e2e.deployment import wait_until

FINISHED = {"success", "failed"}


class AirflowAPI:
    """``/api/v2`` with a bearer token from the auth manager's ``/auth/token`` (the user's name and password)."""

    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.trust_env = False
        self.username = username
        self.password = password

    def login(self) -> None:
        answer = self.session.post(
            f"{self.base_url}/auth/token", json={"username": self.username, "password": self.password}, timeout=30
        )
        answer.raise_for_status()
        self.session.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"

    def get(self, path: str, **params: Any) -> Any:
        answer = self.session.get(f"{self.base_url}/api/v2{path}", params=params, timeout=60)
        answer.raise_for_status()
        return answer.json()

    def healthy(self) -> bool:
        try:
            answer = self.session.get(f"{self.base_url}/api/v2/monitor/health", timeout=5)
        except requests.RequestException:
            return False
        return answer.status_code == 200

    def dag_ready(self, dag_id: str) -> bool:
        answer = self.session.get(f"{self.base_url}/api/v2/dags/{dag_id}", timeout=30)
        return answer.status_code == 200 and not answer.json().get("is_paused", True)

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> str:
        run_id = f"e2e_{dag_id}_{uuid.uuid4().hex[:8]}"
        answer = self.session.post(
            f"{self.base_url}/api/v2/dags/{dag_id}/dagRuns",
            json={"dag_run_id": run_id, "logical_date": None, "conf": conf or {}},
            timeout=60,
        )
        if answer.status_code >= 400:
            raise RuntimeError(f"triggering {dag_id} failed: HTTP {answer.status_code} {answer.text[:500]}")
        return run_id

    def run_state(self, dag_id: str, run_id: str) -> str:
        return str(self.get(f"/dags/{dag_id}/dagRuns/{run_id}")["state"])

    def task_instances(self, dag_id: str, run_id: str, task_id: str | None = None) -> list[dict[str, Any]]:
        found = self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", limit=1000)["task_instances"]
        return [ti for ti in found if task_id is None or ti["task_id"] == task_id]

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float) -> str:
        """The run's final state (success or failed)."""
        return wait_until(
            lambda: (state := self.run_state(dag_id, run_id)) in FINISHED and state,
            timeout,
            f"DAG run {run_id} to finish",
            every=2,
        )

    def failed_tasks(self, dag_id: str, run_id: str) -> list[str]:
        """Each task instance that did not succeed, the first with the reason its log gives."""
        failed = [ti for ti in self.task_instances(dag_id, run_id) if ti["state"] not in {"success", "skipped"}]
        described = [f"{ti['task_id']}[{ti['map_index']}]={ti['state']}" for ti in failed]
        if failed:
            described[0] += f" ({self.failure_reason(failed[0])})"
        return described

    def log_events(self, ti: dict[str, Any], try_number: int | None = None) -> list[dict[str, Any]]:
        """The structured lines of a task instance's log (its last try unless ``try_number``), via the REST API."""
        log = self.get(
            f"/dags/{ti['dag_id']}/dagRuns/{ti['dag_run_id']}/taskInstances/{ti['task_id']}/logs/"
            f"{try_number or max(ti['try_number'], 1)}",
            map_index=ti["map_index"],
            full_content="true",
        )
        return [item for item in log.get("content", []) if isinstance(item, dict)]

    def failure_reason(self, ti: dict[str, Any]) -> str:
        """The last error (or failure event) in a task instance's log, read through the REST API."""
        try:
            events = self.log_events(ti)
        except requests.RequestException as error:
            return f"no log: {error}"
        for item in reversed(events):
            if item.get("level") in {"error", "critical"}:
                details = item.get("error_detail") or [{}]
                cause = details[0] if isinstance(details[0], dict) else {}
                if cause.get("exc_type"):
                    return f"{cause['exc_type']}: {cause.get('exc_value', '')}"[:300]
                return str(item.get("event", ""))[:300]
        # A deferred task can be failed by its trigger's event: the reason is the trigger's last word.
        said = [str(item.get("event", "")) for item in events if "WizIQ" in str(item.get("event", ""))]
        return said[-1][:300] if said else "no error in its log"

    def asset_id(self, uri: str) -> int | None:
        """The id of the asset with this URI, or None while no DAG has declared it."""
        found = self.get("/assets", uri_pattern=uri, limit=100)["assets"]
        return next((int(asset["id"]) for asset in found if asset["uri"] == uri), None)

    def asset_state(self, asset_id: int) -> dict[str, Any]:
        """Every key of an asset's state store with its value (read, never written, by the test)."""
        found = self.get(f"/assets/{asset_id}/state-store", limit=1000)["asset_state_store"]
        return {item["key"]: item["value"] for item in found}

    def asset_events(self, asset_id: int, run_id: str) -> list[dict[str, Any]]:
        """The events recorded on an asset by one DAG run's tasks."""
        return list(self.get("/assets/events", asset_id=asset_id, source_run_id=run_id, limit=100)["asset_events"])

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> Any:
        """An XCom value as the task pushed it."""
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}"
        return self.get(path, deserialize="true", stringify="false")["value"]


class Emulator:
    """The emulator's control API (``/_emulator/``): reset, clock, latency, faults and what it recorded."""

    def __init__(self, base_url: str) -> None:
        self.base = f"{base_url.rstrip('/')}/_emulator"
        self.session = requests.Session()
        self.session.trust_env = False

    def _call(self, verb: str, path: str, body: dict[str, Any] | None = None, **params: Any) -> Any:
        answer = self.session.request(verb, f"{self.base}{path}", json=body, params=params or None, timeout=60)
        answer.raise_for_status()
        return answer.json() if answer.content else None

    def reset(self) -> None:
        """A fresh account: no classes, faults or recorded calls; latency and clock as at start."""
        self._call("POST", "/reset")

    def requests(self, method: str | None = None) -> list[dict[str, Any]]:
        return self._call("GET", "/requests", **({"method": method} if method else {}))["requests"]

    def series(self) -> list[dict[str, Any]]:
        return self._call("GET", "/series")["series"]

    def classes(self, class_master_id: int | None = None) -> list[dict[str, Any]]:
        return self._call("GET", "/classes", **({"class_master_id": class_master_id} if class_master_id else {}))[
            "classes"
        ]

    def get_class(self, class_id: int) -> dict[str, Any]:
        return self._call("GET", f"/classes/{class_id}")

    def now(self) -> datetime:
        return datetime.fromisoformat(self._call("GET", "/clock")["now"].replace("Z", "+00:00"))

    def set_clock(self, moment: datetime) -> None:
        self._call("POST", "/clock/set", {"now": moment.isoformat()})

    def advance(self, **duration: float) -> None:
        self._call("POST", "/clock/advance", duration)

    def set_latency(self, seconds: float) -> None:
        self._call("POST", "/latency", {"seconds": seconds})

    def pings(self) -> list[dict[str, Any]]:
        """The status pings sent: ``class_id``, ``class_status``, ``delivered``, ``error`` (never the URL's token
        in a figure: the URL is not shown)."""
        return self._call("GET", "/pings")["pings"]

    def wait_for_pings(self, timeout: float = 5.0) -> bool:
        return bool(self._call("POST", "/pings/wait", {"timeout": timeout})["done"])

    def inject(self, kind: str, **options: Any) -> None:
        self._call("POST", "/faults", {"kind": kind, **options})


def writes(log: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The recorded calls that change the account."""
    return [entry for entry in log if entry["method"] in WRITE_METHODS]


WRITE_METHODS = frozenset({"create", "create_recurring", "cancel", "modify", "add_attendees"})


def recorded_at(entry: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(entry["time"]).replace("Z", "+00:00"))


def pause(seconds: float) -> None:
    time.sleep(seconds)
