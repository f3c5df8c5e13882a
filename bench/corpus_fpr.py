"""False positives on whole packages: the benign corpus's held-out calibration releases,
every file read as `check` reads it.

Usage: python bench/corpus_fpr.py [--corpus DIR] [--models DIR] [--limit N]
                                  [--out bench/results/corpus_fpr.md]

Training calibrates the threshold on the calibration releases' install-time files and
a sample of their modules (`benign_modules_per_package`); this bench judges every file
of the same releases (never seen by the index or the combiner: the split is
`split._unit("pkg:<name>", seed) < calibration_fraction`, as in training) with the
gate's own `Judge`, so the figure is the false-positive rate users meet. The
known-benign file set is off (`known_files=False`): with it every corpus file would be
`known`, and the models would not be measured at all. Packages are judged on every core
(forked workers share the loaded models); each row is one release.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mphunter_gate.gate import GateOptions, Judge, _beyond_calibration  # noqa: E402
from mphunter_gate.model.calibrate import _upper_95 as upper_95  # noqa: E402
from mphunter_gate.model.data import benign_releases, release_scripts  # noqa: E402
from mphunter_gate.model.params import TrainParams  # noqa: E402
from mphunter_gate.model.pool import fork_map  # noqa: E402
from mphunter_gate.model.split import _unit  # noqa: E402
from mphunter_gate.types import Finding, ScriptSet, Verdict  # noqa: E402


def judge_release(judge: Judge, key: str, folder: Path) -> dict[str, Any]:
    scripts = release_scripts(folder)
    name, _, version = key.rpartition("-")
    judged = judge.analyse(ScriptSet(name, version, key, None, tuple(scripts)))
    finding = judge.verdict(judged, Finding(name, version, key, Verdict.PASS, None, ""))
    by_path = {a.path: a for a in judged.analyses}
    top = max(judged.scores, key=lambda s: s.score, default=None)
    over = [s for s in judged.scores if s.score >= judge.threshold]
    return {
        "release": key,
        "files": len(scripts),
        "verdict": finding.verdict.value,
        "reason": finding.reason,
        "score": top.score if top else None,
        "top": top.path if top else None,
        "top_stage": by_path[top.path].stage.value if top and top.path in by_path else None,
        # Over the threshold at a file the calibration set covers, or beyond it: the
        # module rule (data/module_evidence.toml) judges the latter.
        "over_calibrated": sum(1 for s in over if not _beyond_calibration(by_path[s.path])),
        "over_beyond": sum(1 for s in over if _beyond_calibration(by_path[s.path])),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=None)
    ap.add_argument("--models", type=Path, default=None)
    ap.add_argument("--limit", type=int, default=None, help="at most this many releases")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "corpus_fpr.md")
    args = ap.parse_args()
    judge = Judge(GateOptions(known_files=False), args.models)
    params = TrainParams.from_dict(judge.detector.manifest.params)  # loads the models once
    held = [
        (key, folder)
        for key, name, folder in benign_releases(args.corpus)
        if _unit("pkg:" + name, params.seed) < params.calibration_fraction
    ][: args.limit]
    started = time.monotonic()
    rows = fork_map(lambda item: judge_release(judge, *item), held)
    seconds = time.monotonic() - started
    verdicts = Counter(r["verdict"] for r in rows)
    n = len(rows)
    by_score = sum(1 for r in rows if r["over_calibrated"] or r["over_beyond"])
    calibrated = sum(1 for r in rows if r["over_calibrated"])
    failed = verdicts["fail"]
    stages = Counter(r["top_stage"] for r in rows if r["verdict"] == "fail")
    version = judge.model_version
    lines = [
        "# False positives on whole packages (held-out calibration releases of the corpus)",
        "",
        f"Models `{version}`, threshold {judge.threshold:.6f}; {n} releases, "
        f"{sum(r['files'] for r in rows)} files, {seconds:.0f} s. "
        f"Command: `python bench/corpus_fpr.py` (known-benign set off).",
        "",
        "| figure | releases | share | 95 % upper bound |",
        "|---|---:|---:|---:|",
        f"| fail (the gate's verdict, module rule applied) | {failed} | {failed / n:.3%} "
        f"| {upper_95(failed, n):.3%} |",
        f"| a file at or above the threshold (score alone) | {by_score} | {by_score / n:.3%} "
        f"| {upper_95(by_score, n):.3%} |",
        f"| ... at a file calibration covers (install, startup, top-level `__init__.py`) "
        f"| {calibrated} | {calibrated / n:.3%} | {upper_95(calibrated, n):.3%} |",
        f"| unscanned (a file cut by a budget or unreadable) | {verdicts['unscanned']} "
        f"| {verdicts['unscanned'] / n:.3%} | - |",
        "",
        "Failing releases by the stage of the deciding file: "
        + (", ".join(f"{k} {v}" for k, v in stages.most_common()) or "none"),
        "",
        "| release | verdict | score | file | stage | reason |",
        "|---|---|---:|---|---|---|",
    ]
    shown = sorted(
        (r for r in rows if r["verdict"] != "pass" or r["over_beyond"]),
        key=lambda r: -(r["score"] or 0),
    )
    for r in shown[:60]:
        lines.append(
            f"| {r['release']} | {r['verdict']} | {r['score'] or 0:.3f} | {r['top']} "
            f"| {r['top_stage']} | {r['reason'][:120]} |"
        )
    args.out.write_text("\n".join(lines) + "\n")
    args.out.with_suffix(".jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    print("\n".join(lines[:14]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
