"""False positives on what legitimate builds and packages do: the synthetic suite.

Usage: python bench/legit_builds.py [--models DIR] [--out bench/results/legit_builds.md]

Every build of tests/adversarial/legit.py (setup.py driving cmake/make/meson,
git for the version, pinned downloads with a sha256 check, opt-out telemetry,
API clients sending their token to their own host, .pth start-up hooks, ...) is
written as an sdist or wheel into a temporary folder and judged in one
`gate.scan` run, as `check` judges a download, with the bundled models or those
in `--models DIR` (the same folder argument `gate.scan` and `bench/corpus_fpr.py`
take). The corpus FPR says how often real releases fail; this says which
ordinary build habit fails, and how close to the threshold each one scores, so
a retrain that moves a habit over the line is seen by name.

Writes the Markdown table to `--out` and the raw rows beside it as `.json`; prints
the table. Exits 1 when any build does not pass, so it can gate a retrain. No
fixture code is run: the archives are text, and the gate only reads them.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mphunter_gate import gate  # noqa: E402
from mphunter_gate.gate import GateOptions  # noqa: E402
from mphunter_gate.model import default_models_dir  # noqa: E402
from mphunter_gate.model.calibrate import _upper_95 as upper_95  # noqa: E402
from mphunter_gate.types import Finding, Verdict  # noqa: E402
from tests.adversarial.legit import BUILDS, Build, materialise_build  # noqa: E402


def cell(text: str) -> str:
    """A Markdown table cell: a `|` in a pattern would split the row."""
    return text.replace("|", "\\|")


def row(build: Build, finding: Finding) -> dict[str, Any]:
    """One build's verdict, score and the file that decided it, with its behaviours."""
    top = max(finding.scores, key=lambda s: s.score, default=None)
    return {
        "build": build.name,
        "kind": build.kind,
        "pattern": build.pattern,
        "verdict": finding.verdict.value,
        "score": finding.score,
        "top_file": top.path if top else None,
        "behaviours": list(top.behaviours) if top else [],
        "files_read": len(finding.analyses),
        "reason": finding.reason,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=Path, default=None, help="models folder (default: bundled)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "legit_builds.md")
    args = ap.parse_args()
    command = shlex.join(["python", "bench/legit_builds.py", *sys.argv[1:]])
    manifest_path = (args.models or default_models_dir()) / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="legit-builds-") as tmp:
        paths = [str(materialise_build(b, Path(tmp))) for b in BUILDS]
        report = gate.scan(paths, GateOptions(), args.models)
    seconds = time.monotonic() - started
    measured = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    rows = [row(b, f) for b, f in zip(BUILDS, report.findings, strict=True)]
    n = len(rows)
    flagged = [r for r in rows if r["verdict"] != Verdict.PASS.value]
    fpr = len(flagged) / n
    lines = [
        "# False positives on legitimate build and package patterns (synthetic suite)",
        "",
        f"Models `{manifest['model_version']}` (`{manifest_path}`), threshold "
        f"{report.threshold:.6f}; {n} builds from `tests/adversarial/legit.py`, one "
        f"`gate.scan` run, {seconds:.1f} s.",
        "",
        f"FPR (verdict not pass): {len(flagged)}/{n} = {fpr:.1%} "
        f"(95 % upper bound {upper_95(len(flagged), n):.1%}). "
        "Builds scoring within 0.1 of the threshold: "
        + (
            ", ".join(
                f"{r['build']} ({r['score']:.3f})"
                for r in rows
                if r["score"] is not None
                and r["verdict"] == Verdict.PASS.value
                and r["score"] >= report.threshold - 0.1
            )
            or "none"
        )
        + ".",
        "",
        "| build | kind | pattern | verdict | score | deciding file | behaviours |",
        "|---|---|---|---|---:|---|---|",
    ]
    for r in rows:
        score = "-" if r["score"] is None else f"{r['score']:.4f}"
        lines.append(
            f"| {r['build']} | {r['kind']} | {cell(r['pattern'])} | {r['verdict']} | {score} "
            f"| {r['top_file'] or '-'} | {cell(', '.join(r['behaviours'])) or '-'} |"
        )
    if flagged:
        lines += ["", "Not passing:", ""]
        lines += [
            f"- {r['build']} ({r['score']}): {r['reason']}; behaviours: "
            f"{', '.join(r['behaviours']) or 'none'}"
            for r in flagged
        ]
    lines += ["", f"_Measured {measured} by `{command}`._"]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    raw = {
        "command": command,
        "measured_utc": measured,
        "model_version": manifest["model_version"],
        "threshold": report.threshold,
        "builds": n,
        "not_passing": len(flagged),
        "fpr": fpr,
        "seconds": round(seconds, 2),
        "rows": rows,
    }
    args.out.with_suffix(".json").write_text(json.dumps(raw, indent=2) + "\n")
    print("\n".join(lines))
    return 1 if flagged else 0


if __name__ == "__main__":
    raise SystemExit(main())
