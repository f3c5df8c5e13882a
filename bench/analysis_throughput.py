"""Throughput of the analysis stage: scripts per second and the slowest file.

Usage: python bench/analysis_throughput.py DIR [DIR ...] [--glob setup.py] [--limit N]

Files are read as text (bytes decoded leniently) and handed to
`mphunter_gate.analysis.analyse`; nothing is imported or executed, so this
is safe to point at an unpacked malware corpus (e.g. /tmp/malcorpus).
Prints one table row per directory: files, scripts/s (by wall clock and by
this process's CPU time, which is the one-core figure on a busy machine),
parsing alone on the same files and the analysis' CPU time as a multiple of
that (stable when the machine's speed is not), mean and max per-file wall time,
the slowest file, how many files took each parse path, and how many files had
a payload decoded.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

from mphunter_gate.analysis import analyse, gcpause
from mphunter_gate.analysis.script import _parse
from mphunter_gate.types import Script, ScriptKind


def _kind(path: Path) -> ScriptKind:
    if path.name == "setup.py":
        return ScriptKind.SETUP
    if path.name == "__init__.py":
        return ScriptKind.INIT
    return ScriptKind.MODULE


def run(folder: Path, pattern: str, limit: int | None) -> tuple[str, ...]:
    files = sorted(p for p in folder.rglob(pattern) if p.is_file())[:limit]
    scripts = [
        Script(str(p), _kind(p), p.read_bytes().decode("utf-8", "surrogateescape")) for p in files
    ]
    modes: Counter[str] = Counter()
    slowest, slowest_file, with_decoded = 0.0, "", 0
    start, cpu_start = time.perf_counter(), time.process_time()
    for script in scripts:
        t0 = time.perf_counter()
        result = analyse(script)
        elapsed = time.perf_counter() - t0
        modes[result.parse.value] += 1
        with_decoded += bool(result.decoded)
        if elapsed > slowest:
            slowest, slowest_file = elapsed, script.path
    total = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    parse_cpu = _parse_cpu(scripts)
    n = len(scripts)
    return (
        str(folder),
        str(n),
        f"{n / total if total else 0.0:.0f}",
        f"{n / cpu if cpu else 0.0:.0f}",
        f"{n / parse_cpu if parse_cpu else 0.0:.0f}",
        f"{cpu / parse_cpu if parse_cpu else 0.0:.2f}",
        f"{1000 * total / max(n, 1):.2f}",
        f"{1000 * slowest:.1f}",
        " ".join(f"{k}={v}" for k, v in sorted(modes.items())),
        str(with_decoded),
        slowest_file,
    )


def _parse_cpu(scripts: list[Script]) -> float:
    """CPU seconds the analysis' own parse step alone takes on the same texts.

    The machine's speed drifts; the ratio of the analysis to this, measured in the same
    run, does not, and parsing is the part of the analysis no change here can make cheaper.
    `_parse` is the analysis' step (size cap, lenient retry), run with the collector
    paused as `analyse` runs it; each tree is freed before the next parse, as there.
    """
    start = time.process_time()
    with gcpause.paused():
        for script in scripts:
            _parse(script.text)
    return time.process_time() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="+", type=Path)
    parser.add_argument("--glob", default="*.py", help="file pattern (default: *.py)")
    parser.add_argument("--limit", type=int, default=None, help="at most N files per folder")
    args = parser.parse_args(argv)
    header = (
        "folder",
        "files",
        "scripts/s",
        "cpu scripts/s",
        "parse-only/s",
        "x parse",
        "mean ms",
        "max ms",
        "parse",
        "decoded",
        "slowest file",
    )
    rows = [header] + [run(d, args.glob, args.limit) for d in args.dirs]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for row in rows:
        sys.stdout.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
