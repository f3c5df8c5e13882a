"""Adversarial recall: one evasion technique per synthetic malicious package, and the
false-positive rate on their benign twins.

Usage: python bench/adversarial.py [--models DIR] [--out bench/results/adversarial.md]

Why: corpus recall measures the malware that was, not an attacker who knows how the
gate reads code. `tests/adversarial/cases.py` hides a handful of payloads (stealers,
droppers, reverse shells, persistence, webhook exfiltration, clipboard hijack) behind
one technique each (decoders, indirection, payload location, splitting, padding,
platform guards, stage tricks) and gives each a benign twin of the same shape. Every
archive is written to a temporary folder and judged by one `gate.scan` call (the models
load once), as `scan` judges local files; nothing is run. A malicious package counts as
detected only on FAIL; UNSCANNED is reported apart (it blocks an install unless
`--allow-unscanned`, but it is not a detection). A twin that FAILs is a false positive.
Writes the Markdown table to `--out` and the raw numbers beside it as `.json`.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mphunter_gate import gate  # noqa: E402
from mphunter_gate.gate import GateOptions  # noqa: E402
from mphunter_gate.model import default_models_dir  # noqa: E402
from mphunter_gate.types import Finding, Verdict  # noqa: E402
from tests.adversarial.cases import CASES, Case, materialise  # noqa: E402


def _git(*args: str) -> str:
    """A read-only git query, or "" where there is no git (the tree is still benchmarked)."""
    try:
        out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return ""
    return out.stdout.strip()


def _row(case: Case, bad: Finding, good: Finding) -> dict[str, Any]:
    top = max(bad.scores, key=lambda s: s.score, default=None)
    return {
        "case": case.name,
        "technique": case.technique,
        "kind": case.kind,
        "where": case.where,
        "bad_verdict": bad.verdict.value,
        "bad_score": bad.score,
        "bad_top_file": top.path if top else None,
        "where_named": case.where in bad.reason,
        "bad_reason": bad.reason,
        "good_verdict": good.verdict.value,
        "good_score": good.score,
        "good_reason": good.reason,
    }


def _pct(k: int, n: int) -> str:
    return f"{100 * k / n:.1f} % ({k}/{n})" if n else "-"


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    def count(sel: list[dict[str, Any]], key: str, verdict: Verdict) -> int:
        return sum(r[key] == verdict.value for r in sel)

    by_tech: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_tech[r["technique"]].append(r)
    per = {
        t: {
            "cases": len(sel),
            "detected": count(sel, "bad_verdict", Verdict.FAIL),
            "unscanned": count(sel, "bad_verdict", Verdict.UNSCANNED),
            "twins_failed": count(sel, "good_verdict", Verdict.FAIL),
            "twins_unscanned": count(sel, "good_verdict", Verdict.UNSCANNED),
        }
        for t, sel in by_tech.items()
    }
    controls = [r for r in rows if r["technique"] == "control"]
    rows = [r for r in rows if r["technique"] != "control"]
    return {
        "controls_detected": count(controls, "bad_verdict", Verdict.FAIL),
        "controls_missed": [r["case"] for r in controls if r["bad_verdict"] != "fail"],
        "controls_twins_failing": [r["case"] for r in controls if r["good_verdict"] == "fail"],
        "cases": len(rows),
        "detected": count(rows, "bad_verdict", Verdict.FAIL),
        "unscanned": count(rows, "bad_verdict", Verdict.UNSCANNED),
        "detected_and_named": sum(r["bad_verdict"] == "fail" and r["where_named"] for r in rows),
        "twins_failed": count(rows, "good_verdict", Verdict.FAIL),
        "twins_unscanned": count(rows, "good_verdict", Verdict.UNSCANNED),
        "per_technique": per,
        "missed": [r["case"] for r in rows if r["bad_verdict"] == "pass"],
        "unscanned_cases": [r["case"] for r in rows if r["bad_verdict"] == "unscanned"],
        "twins_failing": [r["case"] for r in rows if r["good_verdict"] == "fail"],
    }


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _markdown(meta: dict[str, Any], s: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    n = s["cases"]
    lines = [
        "### Adversarial: one evasion technique per package, with benign twins",
        "",
        f"Models: {meta['model_version']} (threshold {meta['threshold']}); "
        f"tree {meta['commit']}{' with uncommitted changes' if meta['dirty'] else ''}.",
        "",
        "| technique | cases | recall (fail) | unscanned | twins failed (FPR) | twins unscanned |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for t, p in s["per_technique"].items():
        lines.append(
            f"| {t} | {p['cases']} | {_pct(p['detected'], p['cases'])} | {p['unscanned']} "
            f"| {_pct(p['twins_failed'], p['cases'])} | {p['twins_unscanned']} |"
        )
    lines.append(
        f"| **all evasions** | {n} | **{_pct(s['detected'], n)}** | {s['unscanned']} "
        f"| **{_pct(s['twins_failed'], n)}** | {s['twins_unscanned']} |"
    )
    lines += [
        "",
        "`control`: each payload plain in `__init__.py`, no technique; not in the totals. "
        f"Controls missed: {', '.join(s['controls_missed']) or 'none'}; "
        f"control twins failed: {', '.join(s['controls_twins_failing']) or 'none'}. "
        "A technique's miss says something only where its payload's control is caught.",
        "",
        f"Detected and the payload's file named in the reason: {_pct(s['detected_and_named'], n)}.",
        f"Missed (pass): {', '.join(s['missed']) or 'none'}.",
        f"Unscanned: {', '.join(s['unscanned_cases']) or 'none'}.",
        f"Twins failed: {', '.join(s['twins_failing']) or 'none'}.",
        "",
        "| case | technique | kind | payload file | bad | bad score | named | twin | twin score |",
        "|---|---|---|---|---|---:|---|---|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['case']} | {r['technique']} | {r['kind']} | `{r['where']}` "
            f"| {r['bad_verdict']} | {_score(r['bad_score'])} "
            f"| {'yes' if r['where_named'] else 'no'} "
            f"| {r['good_verdict']} | {_score(r['good_score'])} |"
        )
    lines += [
        "",
        "Recall counts FAIL only; UNSCANNED is shown apart. Each case and twin is a synthetic "
        "archive from `tests/adversarial/cases.py`, judged by one `gate.scan` call with "
        "`GateOptions()`; nothing is run. `named`: the payload's file appears in the reason.",
        "",
        f"_Measured {meta['utc']} by `{meta['command']}` ({meta['seconds']:.1f} s)._",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--models", type=Path, default=None, help="models folder (default: bundled)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "adversarial.md")
    args = ap.parse_args(argv)
    command = "python bench/adversarial.py" + "".join(
        " " + shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv)
    )
    manifest = json.loads(((args.models or default_models_dir()) / "manifest.json").read_text())
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mph-adversarial-") as tmp:
        paths = [str(materialise(c, twin, Path(tmp))) for c in CASES for twin in ("bad", "good")]
        report = gate.scan(paths, GateOptions(), args.models)
    seconds = time.perf_counter() - t0
    findings = iter(report.findings)
    rows = [_row(c, next(findings), next(findings)) for c in CASES]
    summary = _summary(rows)
    meta = {
        "model_version": manifest.get("model_version"),
        "threshold": manifest.get("threshold"),
        "commit": _git("rev-parse", "--short", "HEAD"),
        "dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "command": command,
        "utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "seconds": seconds,
    }
    md = _markdown(meta, summary, rows)
    print(md)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(md)
    args.out.with_suffix(".json").write_text(
        json.dumps({"meta": meta, "summary": summary, "cases": rows}, indent=2) + "\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
