"""The deployment under test: PostgreSQL, Redis, the WizIQ emulator and Airflow's components as separate processes.

Everything listens on 127.0.0.1 on ports picked free at start, lives in one temp dir, and runs in its own
process group, recorded in ``<temp dir>/pids`` so that ``scripts/e2e.sh`` can end it even if this driver dies.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
ACCESS_KEY = "e2e-access-key"
USER = "e2e"


def say(message: str) -> None:
    print(f"[e2e {time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(check: Callable[[], Any], timeout: float, what: str, every: float = 0.5) -> Any:
    """Poll ``check`` until it returns something truthy; raise TimeoutError naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


class Process:
    """One server process in its own session (so its whole group can be signalled), logging to a file."""

    def __init__(self, name: str, argv: Sequence[str], env: dict[str, str], log_dir: Path, pid_file: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        with open(self.log_path, "ab") as log:
            self.popen = subprocess.Popen(
                list(argv),
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=log_dir,
            )
        with open(pid_file, "a") as pids:
            pids.write(f"{self.popen.pid}\n")
        say(f"started {name} (pid {self.popen.pid}), log {self.log_path.name}")

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signum)

    def kill(self) -> None:
        """SIGKILL the process and everything in its group (a lost machine, not a shutdown)."""
        self.signal_group(signal.SIGKILL)
        self.popen.wait()

    def stop(self, grace: float = 15.0) -> None:
        """SIGTERM the group, then SIGKILL what is left after ``grace`` seconds."""
        if self.alive():
            self.signal_group(signal.SIGTERM)
            try:
                self.popen.wait(grace)
            except subprocess.TimeoutExpired:
                say(f"{self.name} ignored SIGTERM for {grace:.0f} s: SIGKILL")
        self.signal_group(signal.SIGKILL)  # leftovers in the group (task processes, pool workers)
        self.popen.wait()

    def tail(self, lines: int = 25) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class Deployment:
    """Starts and stops the services; holds their ports and the environment Airflow's processes share."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.logs = work / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.pid_file = work / "pids"
        self.processes: dict[str, Process] = {}
        self.pg_port = free_port()
        self.redis_port = free_port()
        self.emulator_port = free_port()
        self.api_port = free_port()
        self.secret_key = secrets.token_urlsafe(24)
        self.ping_secret = secrets.token_urlsafe(32)
        self.password = secrets.token_urlsafe(16)
        self.airflow_home = work / "airflow"
        self.executor = "LocalExecutor"

    # Processes ----------------------------------------------------------------------------------------------

    def start(self, name: str, argv: Sequence[str], env: dict[str, str] | None = None) -> Process:
        process = Process(name, argv, env or dict(os.environ), self.logs, self.pid_file)
        self.processes[name] = process
        return process

    def stop(self, *names: str) -> None:
        for name in names or reversed(list(self.processes)):
            process = self.processes.pop(name, None)
            if process is not None:
                process.stop()

    def check_alive(self, *names: str) -> None:
        for name in names:
            process = self.processes[name]
            if not process.alive():
                raise RuntimeError(f"{name} exited with status {process.popen.returncode}:\n{process.tail()}")

    # PostgreSQL -----------------------------------------------------------------------------------------------

    def start_postgres(self) -> None:
        """A cluster of our own in the temp dir, run by the ``postgres`` user when we are root (PostgreSQL
        refuses to run as root)."""
        bindir = Path(os.environ.get("E2E_PG_BIN") or _pg_bindir())
        data = self.work / "pg"
        sockets = self.work / "pg-socket"
        data.mkdir()
        sockets.mkdir()
        as_user: list[str] = []
        if os.geteuid() == 0:
            os.chmod(self.work, 0o755)
            shutil.chown(data, "postgres", "postgres")
            shutil.chown(sockets, "postgres", "postgres")
            as_user = ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"]
        subprocess.run(
            [
                *as_user,
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "--no-sync",
                "-E",
                "UTF8",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        self.start(
            "postgres",
            [
                *as_user,
                str(bindir / "postgres"),
                "-D",
                str(data),
                "-p",
                str(self.pg_port),
                "-k",
                str(sockets),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=300",
                "-c",
                "shared_buffers=128MB",
            ],
        )
        wait_until(self._postgres_ready, 60, "PostgreSQL to accept connections")
        import psycopg2

        connection = psycopg2.connect(host="127.0.0.1", port=self.pg_port, user="postgres", dbname="postgres")
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("CREATE DATABASE airflow")
        connection.close()

    def _postgres_ready(self) -> bool:
        self.check_alive("postgres")
        import psycopg2

        try:
            psycopg2.connect(host="127.0.0.1", port=self.pg_port, user="postgres", dbname="postgres").close()
        except psycopg2.OperationalError:
            return False
        return True

    @property
    def database_url(self) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.pg_port}/airflow"

    # Redis -----------------------------------------------------------------------------------------------------

    def start_redis(self) -> None:
        folder = self.work / "redis"
        folder.mkdir(exist_ok=True)
        self.start(
            "redis",
            [
                os.environ.get("E2E_REDIS_SERVER", "redis-server"),
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(folder),
            ],
        )

        def ready() -> bool:
            self.check_alive("redis")
            try:
                with socket.create_connection(("127.0.0.1", self.redis_port), timeout=2) as conn:
                    conn.sendall(b"PING\r\n")
                    return conn.recv(16).startswith(b"+PONG")
            except OSError:
                return False

        wait_until(ready, 30, "Redis to answer PING")

    # The emulator ------------------------------------------------------------------------------------------------

    def start_emulator(self) -> None:
        self.start(
            "emulator",
            [
                sys.executable,
                "-m",
                "airflow_provider_wiziq.emulator",
                "--port",
                str(self.emulator_port),
                "--access-key",
                ACCESS_KEY,
                "--secret-key",
                self.secret_key,
                "--report-delay",
                "0",
                "--log-level",
                "WARNING",
            ],
        )

        def ready() -> bool:
            self.check_alive("emulator")
            try:
                with socket.create_connection(("127.0.0.1", self.emulator_port), timeout=2):
                    return True
            except OSError:
                return False

        wait_until(ready, 30, "the emulator to listen")

    @property
    def emulator_url(self) -> str:
        return f"http://127.0.0.1:{self.emulator_port}"

    # Airflow -------------------------------------------------------------------------------------------------

    def prepare_airflow(self) -> None:
        """AIRFLOW_HOME with the DAGs (the shipped examples and the test's own), the cluster policy, the user."""
        dags = self.work / "dags"
        shutil.copytree(REPO / "example_dags", dags, ignore=shutil.ignore_patterns("__pycache__"))
        for path in (HERE / "dags").glob("*.py"):
            shutil.copy(path, dags / path.name)
        config = self.airflow_home / "config"
        config.mkdir(parents=True)
        shutil.copy(HERE / "airflow_local_settings.py", config / "airflow_local_settings.py")
        (self.work / "passwords.json").write_text(json.dumps({USER: self.password}))
        (self.work / "reports").mkdir()

    def airflow_env(self, **extra: str) -> dict[str, str]:
        """The configuration every Airflow process of the deployment shares (Airflow reads it from the
        environment: ``AIRFLOW__SECTION__KEY``)."""
        settings = {
            "AIRFLOW_HOME": str(self.airflow_home),
            "PYTHONPATH": str(self.airflow_home / "config"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.work / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__EXECUTOR": self.executor,
            "AIRFLOW__CORE__PARALLELISM": "8",
            "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "64",
            "AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY": "3",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.api_port}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.work / "passwords.json"),
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "airflow_local_settings.worker_hostname",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.database_url,
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{self.api_port}",
            "AIRFLOW__API__PORT": str(self.api_port),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__WORKERS": "2",
            "AIRFLOW__API__MAXIMUM_PAGE_LIMIT": "1000",
            "AIRFLOW__API__SECRET_KEY": self.secret_key + "-api",
            "AIRFLOW__API_AUTH__JWT_SECRET": self.secret_key + "-jwt",
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
            # Only the runs a scenario triggers: a scheduled example (wiziq_term_sync is @daily) must not write to
            # the emulator's account in the middle of another scenario.
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            # A loaded machine answers the workers' execution API calls slowly; 5 s (the default) is too short.
            "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "60",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "60",
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT_CHECK_INTERVAL": "10",
            "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "10",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "AIRFLOW_CONN_WIZIQ_DEFAULT": json.dumps(
                {
                    "conn_type": "wiziq",
                    "host": f"{self.emulator_url}/apimanager.ashx",
                    "login": ACCESS_KEY,
                    "password": self.secret_key,
                }
            ),
            # Status pings (docs/deployment.md): on for the connection wiziq_pings only, whose classes get the
            # api-server's /wiziq/ping as their status_ping_url; wiziq_default's waits poll as before.
            "AIRFLOW_CONN_WIZIQ_PINGS": json.dumps(
                {
                    "conn_type": "wiziq",
                    "host": f"{self.emulator_url}/apimanager.ashx",
                    "login": ACCESS_KEY,
                    "password": self.secret_key,
                    "extra": {"ping_base_url": self.ping_base_url},
                }
            ),
            "AIRFLOW__WIZIQ__PING_SECRET": self.ping_secret,
            "AIRFLOW__WIZIQ__PING_INBOX": self.ping_inbox.as_uri(),
            "AIRFLOW__WIZIQ__PING_IDLE_INTERVAL": "20",
            "WIZIQ_REPORT_DIR": str(self.work / "reports"),
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }
        if self.executor == "CeleryExecutor":
            settings.update(
                {
                    "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:{self.redis_port}/0",
                    "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql://postgres@127.0.0.1:{self.pg_port}/airflow",
                    "AIRFLOW__CELERY__WORKER_CONCURRENCY": "4",
                    "AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER": "1",
                    "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": "60",
                }
            )
        return {**os.environ, **settings, **extra}

    @property
    def ping_base_url(self) -> str:
        """The api-server's status-ping route (the plugin's), as WizIQ would reach it."""
        return f"http://127.0.0.1:{self.api_port}/wiziq/ping"

    @property
    def ping_inbox(self) -> Path:
        return self.work / "ping-inbox"

    def airflow(self, *args: str) -> None:
        """Run one ``airflow`` CLI command to completion (e.g. ``db migrate``)."""
        log = self.logs / f"airflow-{'-'.join(args[:2])}.log"
        with open(log, "ab") as out:
            result = subprocess.run(
                [self.airflow_bin, *args],
                env=self.airflow_env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.work,
                check=False,
            )
        if result.returncode:
            raise RuntimeError(f"airflow {' '.join(args)} failed ({result.returncode}); see {log}")

    @property
    def airflow_bin(self) -> str:
        return str(Path(sys.executable).with_name("airflow"))

    def start_component(self, name: str, *args: str, **extra_env: str) -> Process:
        return self.start(name, [self.airflow_bin, *args], self.airflow_env(**extra_env))

    def start_airflow(self) -> None:
        """api-server, scheduler, dag-processor and triggerer, each its own process. Log servers are off (they
        listen on every interface, on fixed ports): the API server reads the logs from the shared log folder."""
        self.start_component("api-server", "api-server", "--host", "127.0.0.1", "--port", str(self.api_port))
        self.start_component("scheduler", "scheduler", "--skip-serve-logs")
        self.start_component("dag-processor", "dag-processor")
        self.start_triggerer()

    def start_triggerer(self) -> Process:
        return self.start_component("triggerer", "triggerer", "--skip-serve-logs")

    def stop_airflow(self) -> None:
        for name in [n for n in self.processes if n not in {"postgres", "redis", "emulator"}]:
            self.stop(name)

    def teardown(self) -> None:
        for name in reversed(list(self.processes)):
            try:
                self.stop(name)
            except Exception as error:  # keep stopping the others
                say(f"stopping {name} failed: {error}")


def _pg_bindir() -> str:
    """Debian installs PostgreSQL's server programs under /usr/lib/postgresql/<major>/bin: take the newest."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parent.parent.name))
    if candidates:
        return str(candidates[-1].parent)
    found = shutil.which("postgres")
    if found:
        return str(Path(found).parent)
    raise RuntimeError("PostgreSQL's server programs (postgres, initdb) are not installed")
