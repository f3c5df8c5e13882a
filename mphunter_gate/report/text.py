"""The terminal format: an aligned table, then the evidence for each failure.

Plain text rather than `rich`: the table is five columns, the output must
survive pipes, CI logs and `less`, and one dependency fewer is one less
thing a security tool asks people to trust.
"""

from __future__ import annotations

from collections.abc import Sequence

from mphunter_gate import __version__
from mphunter_gate.report.base import Formatter
from mphunter_gate.report.explain import (
    advisory_line,
    clean,
    covered_files,
    explain,
    fmt_score,
    needs_explanation,
    overall,
    policy_lines,
    riskiest_first,
    stage_of,
    summary_counts,
    where,
)
from mphunter_gate.types import Finding, Report, Verdict

_HEADERS = ("NAME", "VERSION", "SCORE", "VERDICT", "REASON")
_MAX_CELL = 60
_MAX_REASON = 100


def verdict_label(finding: Finding) -> str:
    """`FAIL`, `unscanned`, `pass`, or `pass (allowed)`."""
    if finding.verdict is Verdict.FAIL:
        return "FAIL"
    if finding.allowed_by is not None:
        return "pass (allowed)"
    return finding.verdict.value


def _table(rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return lines


def _details(finding: Finding, threshold: float) -> list[str]:
    ex = explain(finding)
    head = f"{clean(finding.name, _MAX_CELL)} {clean(finding.version, _MAX_CELL)}"
    lines = [f"{head}: {verdict_label(finding)} ({where(finding)})"]
    lines.append(f"  why: {clean(finding.reason, 300)}")
    for hit in policy_lines(finding):
        lines.append(f"  {clean(hit, 400)}")
    if finding.scan is not None and finding.scan.reason != finding.reason:
        lines.append(f"  scan: {finding.scan.verdict.value}: {clean(finding.scan.reason, 300)}")
    if finding.score is not None:
        lines.append(f"  score {fmt_score(finding.score)} (threshold {fmt_score(threshold)})")
    if ex.worst is not None:
        w = ex.worst
        stage = stage_of(finding, w.path)
        lines.append(
            f"  {clean(w.path)}{stage}: outlierness {fmt_score(w.outlierness)}, "
            f"distance to nearest benign script {fmt_score(w.benign_distance)}"
        )
        if w.nearest_malicious:
            lines.append(
                f"  nearest known-malicious sample: {clean(w.nearest_malicious, 120)} "
                f"(distance {fmt_score(w.malicious_distance)})"
            )
    if ex.evidence or ex.indicators:
        lines.append("  evidence (API calls and strings behind the score):")
        lines += [f"    {clean(c.file)}:{c.line}  {clean(c.api, 120)}" for c in ex.evidence]
    for i in ex.indicators:
        lines.append(f"    {clean(i.file)}:{i.line}  {clean(i.name)}: {clean(i.excerpt, 80)!r}")
    for d in ex.decoded:
        lines.append(
            f"  decoded {clean(d.method)} payload at {clean(d.file)}:{d.line}: "
            f"{clean(d.preview, 120)!r}"
        )
    for problem in ex.parse_problems:
        lines.append(f"  parse: {clean(problem, 200)}")
    for covered in covered_files(finding):
        lines.append(f"  file: {clean(covered, 300)}")
    for vuln in finding.vulnerabilities:
        fix = f" (fixed in {', '.join(vuln.fix_versions)})" if vuln.fix_versions else ""
        desc = clean(vuln.description, 160)
        lines.append(f"  vulnerability {clean(vuln.id)}{clean(fix)}: {desc}")
    for note in finding.notes:
        lines.append(f"  note: {clean(note, 300)}")
    if finding.allowed_by is not None:
        lines.append(f"  allowed: {clean(finding.allowed_by, 300)}")
    elif finding.verdict is not Verdict.PASS:
        lines.append(f"  to allow it, add to allow = [...] under [tool.mphunter-gate]: {ex.allow}")
    return lines


class TextFormatter(Formatter):
    """Human-readable output for a terminal or a CI log."""

    name = "text"

    def format(self, report: Report) -> str:
        findings = riskiest_first(report.findings)
        lines: list[str] = []
        if findings:
            rows = [_HEADERS] + [
                (
                    clean(f.name, _MAX_CELL),
                    clean(f.version, _MAX_CELL),
                    fmt_score(f.score),
                    verdict_label(f),
                    clean(f.reason, _MAX_REASON),
                )
                for f in findings
            ]
            lines += _table(rows)
        else:
            lines.append("No packages were checked.")
        detailed = [f for f in findings if needs_explanation(f)]
        for finding in detailed:
            lines.append("")
            lines += _details(finding, report.threshold)
        judged = [(f, line) for f in findings for line in covered_files(f)]
        if judged:
            lines += ["", "Files judged:"]
            lines += [
                f"  {clean(f.name, _MAX_CELL)} {clean(f.version, _MAX_CELL)}: {clean(line, 300)}"
                for f, line in judged
            ]
        counts = summary_counts(report)
        if report.advisories is not None:
            lines += ["", clean(advisory_line(report.advisories), 600)]
        lines.append("")
        lines.append(
            f"{counts['total']} package(s): {counts['fail']} failed, "
            f"{counts['unscanned']} unscanned, {counts['pass']} passed"
            + (f" ({counts['allowed']} allowed)" if counts["allowed"] else "")
            + (
                f", {counts['vulnerabilities']} vulnerabilities"
                if counts["vulnerabilities"]
                else ""
            )
            + f". Verdict: {overall(report).replace('-', ' ').upper()} "
            f"(threshold {fmt_score(report.threshold)}, model {clean(report.model_version)}, "
            f"mphunter-gate {__version__})"
        )
        return "\n".join(lines) + "\n"
