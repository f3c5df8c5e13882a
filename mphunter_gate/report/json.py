"""The JSON report: the stable, machine-readable contract.

Other tools and our own evaluation read this document, so its shape only
grows: fields are added (and `schema_version` bumped only when one must
change meaning), never renamed or removed. Values are emitted exactly as
the gate produced them (JSON escaping makes any string safe); sorting and
truncation that help humans belong to the other formats, with one bound:
per-file evidence lists are capped so a generated 10 MB setup.py cannot
produce a 1 GB report.
"""

from __future__ import annotations

import json
from typing import Any

from mphunter_gate import __version__
from mphunter_gate.report.base import Formatter
from mphunter_gate.report.explain import (
    explain,
    is_sensitive,
    needs_explanation,
    overall,
    rule_of,
    sensitive_prefixes,
    summary_counts,
)
from mphunter_gate.types import Finding, ParseMode, Report, ScriptAnalysis, ScriptScore

SCHEMA_VERSION = 1
#: Call sites listed per file, most suspicious first.
MAX_EVIDENCE_PER_FILE = 100
#: Files per package whose call sites are listed, riskiest first (plus any file with
#: a decoded payload, an indicator or a cut analysis).
MAX_DETAILED_FILES = 20


def _evidence(analysis: ScriptAnalysis) -> tuple[list[dict[str, Any]], bool]:
    prefixes = sensitive_prefixes()
    calls = sorted(
        analysis.calls, key=lambda c: (not is_sensitive(c.api, prefixes), c.file, c.line)
    )
    items = [
        {"api": c.api, "file": c.file, "line": c.line, "sensitive": is_sensitive(c.api, prefixes)}
        for c in calls[:MAX_EVIDENCE_PER_FILE]
    ]
    return items, len(calls) > MAX_EVIDENCE_PER_FILE


def _file(
    path: str, analysis: ScriptAnalysis | None, score: ScriptScore | None, detailed: bool
) -> dict[str, Any]:
    show = analysis if detailed else None
    evidence, truncated = _evidence(show) if show is not None else ([], False)
    return {
        "path": path,
        "kind": analysis.kind.value if analysis is not None else None,
        "stage": analysis.stage.value if analysis is not None and analysis.stage else None,
        "parse": analysis.parse.value if analysis is not None else None,
        "error": analysis.error if analysis is not None else None,
        "truncated": analysis.truncated if analysis is not None else None,
        "score": score.score if score is not None else None,
        "outlierness": score.outlierness if score is not None else None,
        "benign_distance": score.benign_distance if score is not None else None,
        "nearest_malicious": score.nearest_malicious if score is not None else None,
        "malicious_distance": score.malicious_distance if score is not None else None,
        "decoded": (
            [
                {"file": d.file, "line": d.line, "method": d.method, "preview": d.preview}
                for d in analysis.decoded
            ]
            if analysis is not None
            else []
        ),
        "evidence": evidence,
        "evidence_truncated": truncated,
        # A package holds thousands of files: call sites are listed for its riskiest
        # files and for any with a decoded payload, an indicator, or a cut analysis.
        "evidence_omitted": analysis is not None and not detailed,
        "indicators": (
            [
                {"name": i.name, "file": i.file, "line": i.line, "excerpt": i.excerpt}
                for i in analysis.indicators
            ]
            if analysis is not None
            else []
        ),
    }


def _files(
    analyses_of: tuple[ScriptAnalysis, ...],
    scores_of: tuple[ScriptScore, ...],
    riskiest: int = MAX_DETAILED_FILES,
) -> list[dict[str, Any]]:
    """Every analysed file; call-site evidence for the `riskiest` and the notable."""
    analyses = {a.path: a for a in analyses_of}
    scores = {s.path: s for s in scores_of}
    paths = list(dict.fromkeys([*analyses, *scores]))
    top = set(sorted(paths, key=lambda p: -(scores[p].score if p in scores else 0.0))[:riskiest])
    rows = []
    for p in paths:
        a = analyses.get(p)
        notable = a is not None and bool(
            a.decoded or a.indicators or a.truncated or a.parse is ParseMode.FAILED
        )
        rows.append(_file(p, a, scores.get(p), p in top or notable))
    return rows


def result_of(finding: Finding) -> dict[str, Any]:
    """One package's object in `results`."""
    result: dict[str, Any] = {
        "name": finding.name,
        "version": finding.version,
        "source": finding.source,
        "verdict": finding.verdict.value,
        "score": finding.score,
        "reason": finding.reason,
        "origin": (
            {"file": finding.origin.file, "line": finding.origin.line}
            if finding.origin is not None
            else None
        ),
        "sha256": finding.sha256,
        "rule": rule_of(finding),
        "allowed_by": finding.allowed_by,
        "notes": list(finding.notes),
        "files": _files(finding.analyses, finding.scores),
        "artifacts": [
            {
                "filename": j.filename,
                "sha256": j.sha256,
                "kind": j.kind.value,
                "installs_on": list(j.installs_on),
                "verdict": j.verdict.value,
                "score": j.score,
                "reason": j.reason,
                "index_hash": j.index_hash,
                "files": _files(j.analyses, j.scores, riskiest=0),
            }
            for j in finding.files
        ],
        "vulnerabilities": [
            {
                "id": v.id,
                "description": v.description,
                "aliases": list(v.aliases),
                "fix_versions": list(v.fix_versions),
            }
            for v in finding.vulnerabilities
        ],
        "policy": [
            {
                "rule": h.rule,
                "level": h.level.value,
                "message": h.message,
                "advisory": h.advisory,
                "allowed_by": h.allowed_by,
            }
            for h in finding.policy
        ],
        # The scan's own verdict where policy hits changed the row's (else null).
        "scan": (
            {
                "verdict": finding.scan.verdict.value,
                "reason": finding.scan.reason,
                "allowed_by": finding.scan.allowed_by,
            }
            if finding.scan is not None
            else None
        ),
        "explanation": None,
    }
    if needs_explanation(finding):
        ex = explain(finding)
        result["explanation"] = {
            "evidence": [{"api": c.api, "file": c.file, "line": c.line} for c in ex.evidence],
            "decoded": [
                {"file": d.file, "line": d.line, "method": d.method, "preview": d.preview}
                for d in ex.decoded
            ],
            "indicators": [
                {"name": i.name, "file": i.file, "line": i.line, "excerpt": i.excerpt}
                for i in ex.indicators
            ],
            "script": ex.worst.path if ex.worst else None,
            "outlierness": ex.worst.outlierness if ex.worst else None,
            "nearest_malicious": ex.worst.nearest_malicious if ex.worst else None,
            "malicious_distance": ex.worst.malicious_distance if ex.worst else None,
            "allow": ex.allow,
        }
    return result


def report_document(report: Report) -> dict[str, Any]:
    """The whole report as plain JSON-able data."""
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "mphunter-gate", "version": __version__},
        "verdict": overall(report),
        "threshold": report.threshold,
        "model_version": report.model_version,
        "results": [result_of(f) for f in report.findings],
        "summary": summary_counts(report),
        "advisories": (
            {
                "source": report.advisories.source,
                "records": report.advisories.records,
                "as_of": report.advisories.as_of,
                "basis": report.advisories.basis,
                "age_days": report.advisories.age_days,
                "stale": report.advisories.stale,
                "stale_after_days": report.advisories.stale_after_days,
            }
            if report.advisories is not None
            else None
        ),
    }


class JsonFormatter(Formatter):
    """`--format json`: the stable contract (see module docstring)."""

    name = "json"

    def format(self, report: Report) -> str:
        return json.dumps(report_document(report), indent=2) + "\n"
