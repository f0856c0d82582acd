"""Instruction counts of one stretch of Python code, with valgrind's callgrind: figures a busy machine does not move.

A child interpreter runs under callgrind with collection off. The stretch to count runs as the comparator of
a two-element ``qsort`` (called through ctypes), and ``--toggle-collect=qsort*`` counts exactly what runs
inside that sort: the stretch itself, plus a constant of a few hundred instructions for the sort and the
ctypes call. Start-up, imports and warm-up are not counted.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence

_COMPARATOR = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)


def valgrind() -> str | None:
    """The valgrind program; installed from Debian's package (apt-get) when missing and this user may install."""
    found = shutil.which("valgrind")
    if found or not shutil.which("apt-get") or os.geteuid() != 0:
        return found
    print("valgrind is missing: installing Debian's package with apt-get", file=sys.stderr)
    install = ["apt-get", "install", "-y", "-q", "valgrind"]
    if subprocess.run(install, stdout=subprocess.DEVNULL, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], stdout=subprocess.DEVNULL, check=False)
        subprocess.run(install, stdout=subprocess.DEVNULL, check=False)
    return shutil.which("valgrind")


def counted(work: Callable[[], None]) -> None:
    """Run ``work`` once, inside the stretch that callgrind counts (see :func:`count`)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    ran: list[bool] = []
    failure: list[BaseException] = []

    def comparator(_a: int | None, _b: int | None) -> int:
        if not ran:  # a sort of two compares them once; never run the work twice
            ran.append(True)
            try:
                work()
            except BaseException as error:  # an exception cannot cross the C sort: carry it out
                failure.append(error)
        return 0

    callback = _COMPARATOR(comparator)
    pair = (ctypes.c_int * 2)(1, 2)
    libc.qsort(pair, 2, ctypes.sizeof(ctypes.c_int), callback)
    if failure:
        raise failure[0]
    if not ran:
        raise RuntimeError("qsort did not call the comparator: nothing was counted")


def count(script: str, arguments: Sequence[str], *, env: dict[str, str] | None = None) -> int:
    """Instructions that ``python script arguments`` ran inside :func:`counted`, under callgrind."""
    program = valgrind()
    if program is None:
        raise RuntimeError("valgrind is not installed (Debian package valgrind)")
    with tempfile.TemporaryDirectory(prefix="wiziq-callgrind-") as folder:
        out = os.path.join(folder, "callgrind.out")
        command = [
            program,
            "--tool=callgrind",
            "--collect-atstart=no",
            "--toggle-collect=qsort*",
            f"--callgrind-out-file={out}",
            sys.executable,
            script,
            *arguments,
        ]
        environment = {**(env or os.environ), "PYTHONHASHSEED": "0"}
        done = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command[-len(arguments) - 2 :])} failed:\n{done.stdout}\n{done.stderr}")
        with open(out) as profile:
            for line in profile:
                if line.startswith("totals:"):
                    return int(line.split()[1])
    raise RuntimeError("callgrind wrote no totals line")
