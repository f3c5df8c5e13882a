"""One entry point for every side-by-side benchmark; writes bench/results/latest.md.

Users compare mphunter-gate with what they already run, on their own
inputs, on noisy CI machines. This runs, on the same inputs and the same
machine, one after another (never two measurements at once):

1. `check` of each ../shared/bench/*.txt, cold (empty cache) and warm,
   against `guarddog pypi verify FILE` and, where it applies,
   `pip-audit -r FILE --disable-pip --no-deps`: wall time and peak memory,
   median and spread of --runs runs, ratios gate/peer (section "check").
2. Stage throughput and how `check` grows with 10/100/1000 pinned
   dependencies from a warm cache (bench/scaling.py).
3. Detection: recall, false-positive rate and time per package of
   `mphunter-gate scan` and `guarddog pypi scan` on the same family-disjoint
   malicious validation samples and held-out benign sdists
   (bench/detection.py).

A part that fails (a peer that will not install, models not trained yet,
an index error) becomes a row or a note saying so; the rest still runs.

    python bench/run_all.py                    # everything, 3 runs
    python bench/run_all.py --runs 5 --only check
    python bench/run_all.py --only detection --malicious 100 --benign 100
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

import peers  # noqa: E402  (bench/ is not a package; its modules import each other)

log = logging.getLogger("bench")

DEFAULT_INPUTS = sorted((ROOT.parent / "shared" / "bench").glob("*.txt"))
DEFAULT_CACHE = BENCH / ".cache"
RESULTS = BENCH / "results"
#: Issue 7's targets.
TARGET_WARM_SPEEDUP = 5.0
TARGET_PEAK_MIB = 500.0


# -- statistics and formatting -------------------------------------------------


def spread(xs: Sequence[float], digits: int = 2) -> str:
    """`median (min-max)`, or `-` when nothing was measured."""
    if not xs:
        return "-"
    med = statistics.median(xs)
    if len(xs) == 1:
        return f"{med:.{digits}f}"
    return f"{med:.{digits}f} ({min(xs):.{digits}f}-{max(xs):.{digits}f})"


def median_or_none(xs: Sequence[float]) -> float | None:
    return statistics.median(xs) if xs else None


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A Markdown table; `|` inside cells is escaped so notes cannot break it."""

    def cell(text: str) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |"]
    lines.append("|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|")
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return lines


# -- the machine ---------------------------------------------------------------


def machine() -> dict[str, str]:
    """What the numbers were measured on (read, not assumed)."""
    info = {
        "cpus": str(os.cpu_count()),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    try:
        info["nproc"] = subprocess.run(
            ["nproc"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        info["nproc"] = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["memory"] = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        log.debug("no /proc: machine details left out")
    try:
        from mphunter_gate import __version__

        info["mphunter-gate"] = __version__
    except ImportError:
        info["mphunter-gate"] = "?"
    manifest = ROOT / "models" / "manifest.json"
    try:
        info["models"] = str(json.loads(manifest.read_text()).get("model_version", "untrained"))
    except (OSError, ValueError):
        info["models"] = "unreadable manifest"
    return info


# -- section 1: check vs the peers -----------------------------------------------


@dataclass
class Series:
    """Repeated measurements of one command on one input."""

    seconds: list[float] = field(default_factory=list)
    peak_mib: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    summary: str = ""

    def add(self, m: peers.Measured, ok_codes: Sequence[int]) -> bool:
        if m.timed_out or m.exit_code not in ok_codes:
            why = "timeout" if m.timed_out else f"exit {m.exit_code}"
            self.failures.append(f"{why}: {m.tail()}")
            return False
        self.seconds.append(m.seconds)
        self.peak_mib.append(m.peak_mib)
        return True

    def time_cell(self) -> str:
        if not self.seconds:
            return "failed: " + (self.failures[0][:160] if self.failures else "not run")
        extra = f" [{len(self.failures)} failed]" if self.failures else ""
        return spread(self.seconds) + extra

    def mem_cell(self) -> str:
        return f"{max(self.peak_mib):.0f}" if self.peak_mib else "-"


def gate_summary(stdout: str) -> str:
    """`N pkgs: P pass / F fail / U unscanned` from the JSON report."""
    try:
        doc = json.loads(stdout)
    except ValueError:
        return "unreadable report"
    results = doc.get("results", []) if isinstance(doc, dict) else []
    counts = {"pass": 0, "fail": 0, "unscanned": 0}
    for r in results:
        v = str(r.get("verdict", "?"))
        counts[v] = counts.get(v, 0) + 1
    return (
        f"{len(results)} pkgs: {counts['pass']} pass / {counts['fail']} fail / "
        f"{counts['unscanned']} unscanned"
    )


def guarddog_summary(stdout: str) -> str:
    """`N pkgs, F with findings` from `guarddog pypi verify --output-format json`."""
    try:
        doc = json.loads(stdout)
    except ValueError:
        return "unreadable report"
    if not isinstance(doc, list):
        return "unexpected report"
    flagged = sum(1 for d in doc if (d.get("result") or {}).get("issues", 0) > 0)
    return f"{len(doc)} pkgs (direct only), {flagged} with findings"


def pip_audit_summary(stdout: str) -> str:
    try:
        doc = json.loads(stdout)
    except ValueError:
        return "unreadable report"
    deps = doc.get("dependencies", []) if isinstance(doc, dict) else []
    vulns = sum(len(d.get("vulns", [])) for d in deps)
    return f"{len(deps)} pkgs, {vulns} known vulns"


def ratio(num: float | None, den: float | None) -> str:
    if num is None or den is None or den == 0:
        return "-"
    return f"{num / den:.2f}"


def run_check_section(
    inputs: Sequence[Path],
    runs: int,
    cache_root: Path,
    venvs: Path,
    models: Path | None,
    timeout: float,
) -> tuple[list[str], dict[str, object]]:
    """Section 1: Markdown lines and the raw numbers."""
    lines = ["## `check` vs GuardDog `verify` and pip-audit", ""]
    raw: dict[str, object] = {}
    gate = [str(peers.gate_executable())]
    models_args = ["--models", str(models)] if models else []
    available: dict[str, peers.PeerEnv | str] = {}
    for name in ("guarddog", "pip-audit"):
        try:
            available[name] = peers.ensure_peer(name, venvs)
        except (RuntimeError, OSError) as exc:
            available[name] = f"not installed: {exc}"
    versions = ", ".join(
        f"{n} {p.version}" if isinstance(p, peers.PeerEnv) else f"{n}: {p}"
        for n, p in available.items()
    )
    lines += [f"Peers (own venvs under `{venvs.relative_to(ROOT)}`): {versions}.", ""]

    rows, cover_rows = [], []
    for req in inputs:
        log.info("check section: %s", req.name)
        cold, warm, gd, pa = Series(), Series(), Series(), Series()
        pa_reason = peers.pip_audit_applies(req)
        gd_peer = available["guarddog"]
        pa_peer = available["pip-audit"]
        for r in range(runs):
            with tempfile.TemporaryDirectory(dir=cache_root, prefix="cold-") as tmp:
                env = dict(os.environ, MPHUNTER_GATE_CACHE=tmp)
                argv = [*gate, "check", str(req), "--format", "json", *models_args]
                m = peers.measure(argv, env=env, timeout=timeout)
                if cold.add(m, (0, 1)):
                    cold.summary = gate_summary(m.stdout)
                    m = peers.measure(argv, env=env, timeout=timeout)
                    if warm.add(m, (0, 1)):
                        warm.summary = gate_summary(m.stdout)
            if isinstance(gd_peer, peers.PeerEnv):
                m = peers.measure(peers.guarddog_verify_argv(gd_peer, req), timeout=timeout)
                if gd.add(m, (0,)):
                    gd.summary = guarddog_summary(m.stdout)
            if isinstance(pa_peer, peers.PeerEnv) and pa_reason is None:
                m = peers.measure(peers.pip_audit_argv(pa_peer, req), timeout=timeout)
                # pip-audit exits 1 when it found vulnerabilities: still a completed run
                if pa.add(m, (0, 1)):
                    pa.summary = pip_audit_summary(m.stdout)
            log.info("  run %d/%d done", r + 1, runs)
        warm_med = median_or_none(warm.seconds)
        gd_med = median_or_none(gd.seconds)
        speedup = (gd_med / warm_med) if (gd_med and warm_med) else None
        peak = max(cold.peak_mib + warm.peak_mib) if (cold.peak_mib or warm.peak_mib) else None
        verdicts = []
        if speedup is not None:
            verdicts.append(
                f"{speedup:.1f}x vs GuardDog: "
                + (
                    "met"
                    if speedup >= TARGET_WARM_SPEEDUP
                    else f"MISSED (<{TARGET_WARM_SPEEDUP:g}x)"
                )
            )
        if peak is not None:
            verdicts.append(
                f"peak {peak:.0f} MiB: " + ("met" if peak < TARGET_PEAK_MIB else "MISSED")
            )
        pa_cell = pa_reason if pa_reason else pa.time_cell()
        if not isinstance(pa_peer, peers.PeerEnv):
            pa_cell = pa_peer
        gd_cell = gd.time_cell() if isinstance(gd_peer, peers.PeerEnv) else str(gd_peer)
        rows.append(
            [
                req.name,
                cold.time_cell(),
                warm.time_cell(),
                cold.mem_cell() + " / " + warm.mem_cell(),
                gd_cell,
                gd.mem_cell(),
                ratio(warm_med, gd_med),
                ratio(median_or_none(cold.seconds), gd_med),
                pa_cell,
                pa.mem_cell(),
                ratio(warm_med, median_or_none(pa.seconds)),
                "; ".join(verdicts) or "-",
            ]
        )
        cover_rows.append(
            [req.name, warm.summary or cold.summary or "-", gd.summary or "-", pa.summary or "-"]
        )
        raw[req.name] = {
            "gate_cold": cold.__dict__,
            "gate_warm": warm.__dict__,
            "guarddog_verify": gd.__dict__,
            "pip_audit": pa.__dict__ | {"not_applicable": pa_reason},
        }
    lines += table(
        [
            "input",
            "gate cold s",
            "gate warm s",
            "gate peak MiB cold/warm",
            "guarddog verify s",
            "guarddog peak MiB",
            "warm/guarddog",
            "cold/guarddog",
            "pip-audit s",
            "pip-audit peak MiB",
            "warm/pip-audit",
            f"targets (warm >= {TARGET_WARM_SPEEDUP:g}x faster, < {TARGET_PEAK_MIB:g} MiB)",
        ],
        rows,
    )
    lines += ["", "What each tool looked at (last successful run):", ""]
    lines += table(["input", "mphunter-gate check", "guarddog verify", "pip-audit"], cover_rows)
    lines += [
        "",
        f"Times: wall seconds, median (min-max) of {runs} runs; each run a fresh process as "
        "a user or CI starts it (interpreter start included). Cold: empty "
        "`MPHUNTER_GATE_CACHE`; warm: the same command again on the cache the cold run "
        "filled. GuardDog and pip-audit keep no cache of their own, so each of their runs "
        "is cold. Peak memory: `ru_maxrss` of the child from `os.wait4` (largest single "
        "process of its tree, max over runs). GuardDog `verify` scans only the direct "
        "requirements (no transitive resolution); the gate resolves and scans the whole "
        "tree, so the gate does more work per input. pip-audit answers a different "
        "question (known CVEs, not malware) and is shown for start-up and memory cost.",
        "",
    ]
    return lines, raw


# -- driver ----------------------------------------------------------------------


Section = Callable[[], tuple[list[str], dict[str, object]]]


def guarded(name: str, section: Section) -> tuple[list[str], dict[str, object]]:
    """Run one section; a crash becomes a note, never the end of the run."""
    t0 = time.perf_counter()
    try:
        lines, raw = section()
    except Exception as exc:  # reported in the table, then the next section runs
        log.exception("section %s failed", name)
        lines = [f"## {name}", "", f"**Section failed**: `{type(exc).__name__}: {exc}`", ""]
        raw = {"error": f"{type(exc).__name__}: {exc}"}
    log.info("section %s took %.0f s", name, time.perf_counter() - t0)
    return lines, raw


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("inputs", nargs="*", type=Path, default=DEFAULT_INPUTS)
    ap.add_argument("--runs", type=int, default=3, help="repetitions per measurement")
    ap.add_argument(
        "--only",
        action="append",
        choices=("check", "scaling", "detection"),
        help="run only these sections (repeatable; default: all)",
    )
    ap.add_argument("--models", type=Path, help="models directory (default: the bundled models/)")
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="bench cache folder")
    ap.add_argument("--venvs", type=Path, default=peers.DEFAULT_VENVS)
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per child process")
    ap.add_argument("--sizes", default="10,100,1000", help="scaling: pinned-dependency counts")
    ap.add_argument("--stage-scripts", type=int, default=2000, help="scaling: scripts per stage")
    ap.add_argument(
        "--req-max",
        type=int,
        default=10,
        help="scaling: largest requirements.txt size (0: lock files only; resolution is slow)",
    )
    ap.add_argument("--malicious", type=int, default=200, help="detection: malicious samples")
    ap.add_argument("--benign", type=int, default=200, help="detection: benign sdists")
    ap.add_argument("--seed", type=int, default=20261125)
    ap.add_argument("--out", type=Path, default=RESULTS / "latest.md")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="bench: %(message)s", stream=sys.stderr)
    args.cache.mkdir(parents=True, exist_ok=True)
    only = set(args.only or ("check", "scaling", "detection"))

    started = time.strftime("%Y-%m-%d %H:%M %Z")
    info = machine()
    command = f"python bench/run_all.py {' '.join(sys.argv[1:] if argv is None else argv)}"
    sections: list[tuple[str, Section]] = []
    if "check" in only:
        sections.append(
            (
                "check",
                lambda: run_check_section(
                    args.inputs, args.runs, args.cache, args.venvs, args.models, args.timeout
                ),
            )
        )
    if "scaling" in only:
        import scaling

        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
        sections.append(
            (
                "scaling",
                lambda: scaling.run_section(
                    sizes,
                    args.runs,
                    args.cache,
                    args.models,
                    args.stage_scripts,
                    args.seed,
                    args.timeout,
                    args.req_max,
                ),
            )
        )
    if "detection" in only:
        import detection

        sections.append(
            (
                "detection",
                lambda: detection.run_section(
                    args.malicious,
                    args.benign,
                    args.cache,
                    args.venvs,
                    args.models,
                    args.seed,
                    args.timeout,
                ),
            )
        )
    out_dir = args.out.parent
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, section in sections:
        lines, part = guarded(name, section)
        stamp = f"_Measured {started} by `{command}`._"
        body = "\n".join([*lines, stamp]).rstrip() + "\n"
        (out_dir / f"{name}.md").write_text(body, encoding="utf-8")
        raw = {"machine": info, "started": started, "command": command, name: part}
        (out_dir / f"{name}.json").write_text(
            json.dumps(raw, indent=2, default=str) + "\n", encoding="utf-8"
        )
        sys.stdout.write(body + "\n")
    # latest.md: the newest result of every section, so a partial re-run keeps the rest.
    doc = [
        "# mphunter-gate side-by-side benchmarks",
        "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in info.items()) + ".",
        "",
    ]
    for name in ("check", "scaling", "detection"):
        part_file = out_dir / f"{name}.md"
        if part_file.exists():
            doc += [part_file.read_text(encoding="utf-8").rstrip(), ""]
        else:
            doc += [f"## {name}", "", "_Not run yet._", ""]
    args.out.write_text("\n".join(doc).rstrip() + "\n", encoding="utf-8")
    log.info("wrote %s", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
