"""Import cost of each provider module over ``import airflow.sdk`` alone (target: under 50 ms).

Each module is measured in fresh interpreters: first ``import airflow.sdk`` (the baseline every task pays),
then the module on top. Prints the median of several runs per module and its ratio to the baseline.
Run: .venv/bin/python benchmarks/import_cost.py [module ...]
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

MODULES = [
    "airflow_provider_wiziq.api.client",
    "airflow_provider_wiziq.api.async_client",
    "airflow_provider_wiziq.hooks.wiziq",
]
RUNS = 7
PROBE = """
import json, sys, time
t0 = time.perf_counter()
import airflow.sdk
t1 = time.perf_counter()
__import__(sys.argv[1])
t2 = time.perf_counter()
print(json.dumps({"baseline": t1 - t0, "module": t2 - t1}))
"""


def measure(module: str) -> tuple[float, float]:
    baselines, extras = [], []
    for _ in range(RUNS):
        out = subprocess.run([sys.executable, "-c", PROBE, module], capture_output=True, text=True, check=True)
        sample = json.loads(out.stdout.strip().splitlines()[-1])
        baselines.append(sample["baseline"])
        extras.append(sample["module"])
    return statistics.median(baselines), statistics.median(extras)


def main() -> None:
    modules = sys.argv[1:] or MODULES
    print(f"{'module':45} {'airflow.sdk':>12} {'module on top':>14} {'ratio':>7}")
    for module in modules:
        baseline, extra = measure(module)
        print(f"{module:45} {baseline * 1000:10.0f}ms {extra * 1000:12.1f}ms {extra / baseline:7.3f}")


if __name__ == "__main__":
    main()
