"""`mphunter-gate batch`: packages per second with 1 and 2 workers, peak memory per worker.

A security team sizing a registry scan asks three things: what one package
costs, whether a second worker doubles the rate (the scaling ratio), and how
much memory each worker needs. This runs the real command, as a team would,
on the same names with 1 and 2 LocalCluster workers, interleaved (1, 2, 1,
2, ...) so the noise of a shared machine falls on both alike, each run with
a fresh database (the database is the batch's only cache: every run
downloads and judges everything again).

The names stand in for a registry's new uploads: a seeded sample of PyPI
projects first released in the newest months of `packages/pypi.tsv` (the
tool library's name list), less every name of the benign corpus (whose
files the models know, and so would not be analysed). Per-worker peak
memory is the largest resident set each Dask worker process reached,
sampled every 0.25 s over the run's process tree.

From the measured rate the table works out, on paper, one day of uploads
(1,800 packages) and the 700,000-project backfill on N machines like this
one, assuming machines scale as the 1 -> 2 worker ratio says workers do.

    python bench/batch.py --packages 500 --rounds 2
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from peers import gate_executable  # noqa: E402
from run_all import machine, spread, table  # noqa: E402

NAMES = Path("/work/.library/env/packages/pypi.tsv")
BENIGN = BENCH.parent / "mphunter_gate" / "data" / "benign_names.tsv"
DAY = 1_800
BACKFILL = 700_000


@dataclass(frozen=True)
class Run:
    workers: int
    seconds: float
    packages: int  # distinct (name, version) rows in the database
    unscanned: int
    exit_code: int
    worker_peaks_mib: tuple[float, ...]

    @property
    def rate(self) -> float:
        return self.packages / self.seconds if self.seconds else 0.0


def sample_names(path: Path, n: int, seed: int, months: int) -> list[str]:
    """`n` names first released in the newest `months` months of the list."""
    benign = {
        line.split("\t", 1)[0].strip().lower()
        for line in BENIGN.read_text().splitlines()
        if line and not line.startswith("#")
    }
    rows = []
    with path.open(encoding="utf-8") as f:
        next(f)
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 3 and parts[2]:
                rows.append((parts[2], parts[0]))
    newest = sorted({m for m, _ in rows})[-months:]
    pool = sorted(name for m, name in rows if m in newest and name.lower() not in benign)
    return random.Random(seed).sample(pool, min(n, len(pool)))


def _watch(pid: int, stop: threading.Event, peaks: dict[int, tuple[str, float]]) -> None:
    """Largest RSS of every process under `pid`, keyed by pid, with its command line."""
    try:
        root = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    while not stop.is_set():
        try:
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return
        for p in procs:
            try:
                rss = p.memory_info().rss / 2**20
                cmd = " ".join(p.cmdline())
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            if rss > peaks.get(p.pid, ("", 0.0))[1]:
                peaks[p.pid] = (cmd, rss)
        stop.wait(0.25)


def one_run(names_file: Path, workers: int, timeout: float) -> Run:
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        db = Path(tmp) / "batch.sqlite"
        argv = [
            str(gate_executable()),
            "batch",
            "--names",
            str(names_file),
            "--db",
            str(db),
            "--workers",
            str(workers),
        ]
        peaks: dict[int, tuple[str, float]] = {}
        stop = threading.Event()
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        watcher = threading.Thread(target=_watch, args=(proc.pid, stop, peaks), daemon=True)
        watcher.start()
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
        seconds = time.perf_counter() - start
        stop.set()
        watcher.join()
        with sqlite3.connect(db) as con:
            packages = con.execute(
                "SELECT COUNT(DISTINCT name || '==' || version) FROM results"
            ).fetchone()[0]
            unscanned = con.execute(
                "SELECT COUNT(DISTINCT name || '==' || version) FROM results "
                "WHERE verdict = 'unscanned'"
            ).fetchone()[0]
    # Dask's worker processes are the children that are not the driver itself and not
    # the multiprocessing resource tracker: the heaviest `workers` of them.
    others = sorted(
        (
            rss
            for pid, (cmd, rss) in peaks.items()
            if pid != proc.pid and "resource_tracker" not in cmd
        ),
        reverse=True,
    )
    return Run(workers, seconds, packages, unscanned, code, tuple(others[:workers]))


def report(runs: Sequence[Run], n_names: int, seed: int) -> list[str]:
    by = {w: [r for r in runs if r.workers == w] for w in sorted({r.workers for r in runs})}
    rates = {w: statistics.median(r.rate for r in rs) for w, rs in by.items()}
    rows = []
    for w, rs in by.items():
        peaks = [p for r in rs for p in r.worker_peaks_mib]
        rows.append(
            [
                str(w),
                spread([r.seconds for r in rs], 0),
                str(rs[0].packages),
                str(max(r.unscanned for r in rs)),
                f"{rates[w]:.2f}",
                f"{max(peaks):.0f}" if peaks else "-",
            ]
        )
    lines = [
        f"# batch: {n_names} names (seed {seed}), interleaved, {len(runs)} runs",
        "",
        *table(
            [
                "workers",
                "wall s",
                "packages",
                "unscanned",
                "packages/s (median)",
                "peak MiB/worker",
            ],
            rows,
        ),
    ]
    if 1 in rates and 2 in rates and rates[1]:
        ratio = rates[2] / rates[1]
        per_machine = rates[2]
        lines += [
            "",
            f"Scaling 1 -> 2 workers: x{ratio:.2f} (2.00 would be linear).",
            f"One day of uploads ({DAY:,} packages) on one such machine with 2 workers: "
            f"{DAY / per_machine / 60:.0f} min.",
            f"Backfill of {BACKFILL:,} projects: {BACKFILL / per_machine / 3600:.0f} h on one "
            f"machine, {BACKFILL / per_machine / 3600 / 10:.1f} h on 10, "
            f"{BACKFILL / per_machine / 3600 / 50:.1f} h on 50 (if machines scale as workers did).",
        ]
    lines += ["", f"Machine: {json.dumps(machine())}"]
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--packages", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=1, help="each round runs 1 then 2 workers")
    ap.add_argument("--seed", type=int, default=20261205)
    ap.add_argument("--months", type=int, default=2, help="newest months of the name list")
    ap.add_argument("--names-from", type=Path, default=NAMES)
    ap.add_argument("--timeout", type=float, default=3600.0)
    ap.add_argument("--out", type=Path, default=BENCH / "results" / "batch")
    args = ap.parse_args(argv)
    names = sample_names(args.names_from, args.packages, args.seed, args.months)
    runs: list[Run] = []
    with tempfile.TemporaryDirectory() as tmp:
        names_file = Path(tmp) / "names.txt"
        names_file.write_text("".join(f"{n}\n" for n in names))
        for _ in range(args.rounds):
            for w in (1, 2):
                run = one_run(names_file, w, args.timeout)
                print(json.dumps(asdict(run)), file=sys.stderr)
                runs.append(run)
    lines = report(runs, len(names), args.seed)
    print("\n".join(lines))
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    args.out.with_suffix(".json").write_text(
        json.dumps(
            {"names": len(names), "seed": args.seed, "runs": [asdict(r) for r in runs]}, indent=2
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
