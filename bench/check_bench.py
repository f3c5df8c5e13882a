"""Wall time and peak memory of `mphunter-gate check`, cold and warm.

Usage: python bench/check_bench.py [--runs N] [FILES...]
(default files: ../shared/bench/*.txt). Each run is a fresh interpreter, as
a user or CI would start it. "cold" uses an empty cache directory, "warm"
re-runs with the cache the cold run filled. Prints a Markdown table with the
median and the spread (min-max) of N runs; the warm target for
web-django.txt is under 2 seconds end to end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = sorted((ROOT.parent / "shared" / "bench").glob("*.txt"))


def run_once(req: Path, cache: Path) -> tuple[float, float, int, int]:
    """(seconds, peak RSS MiB, exit code, result rows) of one `check` in a child process."""
    env = dict(os.environ, MPHUNTER_GATE_CACHE=str(cache))
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mphunter_gate.cli", "check", str(req), "--format", "json"],
            stdout=out,
            stderr=err,
            text=True,
            env=env,
        )
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own peak RSS, not the max of all
        elapsed = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    rows = stdout.count('"source"')
    if proc.returncode not in (0, 1):
        print(f"{req.name}: exit {proc.returncode}: {stderr.strip()[:300]}", file=sys.stderr)
    return elapsed, usage.ru_maxrss / 1024, proc.returncode, rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("files", nargs="*", type=Path, default=DEFAULT)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    print(
        "| input | packages | exit | cold s (median, min-max) | warm s (median, min-max) "
        "| peak MiB |"
    )
    print("|---|---:|---:|---|---|---:|")
    for req in args.files:
        colds, warms, peaks = [], [], []
        code, rows = 0, 0
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory() as tmp:
                cache = Path(tmp)
                t, m, code, rows = run_once(req, cache)
                colds.append(t)
                peaks.append(m)
                t, m, _, _ = run_once(req, cache)
                warms.append(t)
                peaks.append(m)

        def fmt(xs: list[float]) -> str:
            return f"{statistics.median(xs):.2f} ({min(xs):.2f}-{max(xs):.2f})"

        print(f"| {req.name} | {rows} | {code} | {fmt(colds)} | {fmt(warms)} | {max(peaks):.0f} |")


if __name__ == "__main__":
    main()
