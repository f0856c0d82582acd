"""Import cost of each provider module over ``import airflow.sdk`` alone (target: under 50 ms).

Every module of the provider is measured. Each run is a fresh interpreter that imports ``airflow.sdk`` (the
baseline every task and DAG parse pays, timed in that interpreter), then forks one child per module; the
child imports the module on top and reports the time, so each module is measured as if it were the first
provider import after ``airflow.sdk``, without paying a new interpreter per module. Prints the median of
several runs per module and its ratio to the baseline.
Run: .venv/bin/python benchmarks/import_cost.py [module ...]
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

PACKAGE = "airflow_provider_wiziq"
RUNS = 5
TARGET = 0.050
PROBE = """
import json, os, sys, time
t0 = time.perf_counter()
import airflow.sdk
baseline = time.perf_counter() - t0
costs = {}
for module in sys.argv[1:]:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        started = time.perf_counter()
        try:
            __import__(module)
            cost = time.perf_counter() - started
        except BaseException as error:
            cost = repr(error)
        os.write(write_end, json.dumps(cost).encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        costs[module] = json.loads(pipe.read())
    os.waitpid(pid, 0)
print(json.dumps({"baseline": baseline, "modules": costs}))
"""


def provider_modules() -> list[str]:
    """Every module of the installed provider package, by dotted name."""
    import importlib.util

    spec = importlib.util.find_spec(PACKAGE)
    assert spec is not None and spec.submodule_search_locations
    root = Path(next(iter(spec.submodule_search_locations)))
    names = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def measure(modules: list[str]) -> tuple[float, dict[str, float]]:
    """Median baseline and median cost of each module over ``RUNS`` fresh interpreters."""
    baselines: list[float] = []
    samples: dict[str, list[float]] = {module: [] for module in modules}
    for _ in range(RUNS):
        out = subprocess.run([sys.executable, "-c", PROBE, *modules], capture_output=True, text=True, check=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        baselines.append(result["baseline"])
        for module, cost in result["modules"].items():
            if isinstance(cost, str):
                raise SystemExit(f"importing {module} failed: {cost}")
            samples[module].append(cost)
    return statistics.median(baselines), {module: statistics.median(costs) for module, costs in samples.items()}


def main() -> None:
    modules = sys.argv[1:] or provider_modules()
    baseline, costs = measure(modules)
    print(f"import airflow.sdk alone (baseline): {baseline * 1000:.0f} ms, median of {RUNS} fresh interpreters")
    print(f"{'module':52} {'on top':>9} {'ratio':>7}")
    for module in modules:
        flag = "" if costs[module] < TARGET else "  over 50 ms"
        print(f"{module:52} {costs[module] * 1000:7.1f}ms {costs[module] / baseline:7.3f}{flag}")
    worst = max(modules, key=costs.__getitem__)
    over = sum(costs[module] >= TARGET for module in modules)
    print(
        f"ratio: worst {worst} {costs[worst] * 1000:.1f} ms = {costs[worst] / baseline:.3f} of airflow.sdk; "
        f"{len(modules) - over} of {len(modules)} modules under 50 ms"
    )


if __name__ == "__main__":
    main()
