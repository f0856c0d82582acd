"""The hook is the gateway: no module outside hooks/ reads an Airflow connection or reaches into a hook."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "airflow_provider_wiziq"

#: Reading a connection (sync or async, or through Airflow's compat helper), turning one into a client
#: configuration, or reaching through a hook to its client or configuration.
READS_A_CONNECTION = re.compile(
    r"\b(a?get_connection|get_async_connection|config_from_airflow_connection)\b|\bhook\.(client|config)\b"
)


def test_only_the_hook_reads_a_connection():
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        where = path.relative_to(SRC)
        # hooks/ is the gateway; api/protocol/config.py defines the reading of a connection's fields the hook calls, and
        # _compat.py names Airflow's async connection helper for the hook.
        if where.parts[0] in ("hooks", "emulator") or where.as_posix() in ("api/protocol/config.py", "_compat.py"):
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if READS_A_CONNECTION.search(line):
                offenders.append(f"{where}:{number}: {line.strip()}")
    assert offenders == []
