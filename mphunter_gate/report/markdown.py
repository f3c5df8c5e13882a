"""Markdown: a table of packages, then the evidence for each failure.

Read in pull-request comments and in the GitHub job summary, both of which
render HTML: everything taken from a package is escaped so a crafted name
or decoded payload cannot inject links, images, tables or HTML. The job
summary reuses this with a byte budget (GitHub rejects summaries over 1 MiB).
"""

from __future__ import annotations

import re

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
from mphunter_gate.report.text import verdict_label
from mphunter_gate.types import Finding, Report, Verdict

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|&!~:])")
_ICON = {Verdict.FAIL: "❌", Verdict.UNSCANNED: "⚠️", Verdict.PASS: "✅"}


def md(text: object, limit: int | None = 200) -> str:
    """Attacker-controlled text as inert Markdown (one line, escaped)."""
    return _MD_SPECIAL.sub(r"\\\1", clean(text, limit))


def code(text: object, limit: int | None = 200) -> str:
    """`text` in a code span that no backtick inside it can close."""
    body = clean(text, limit)
    fence = "`"
    while fence in body:
        fence += "`"
    pad = " " if body.startswith("`") or body.endswith("`") or not body else ""
    return f"{fence}{pad}{body}{pad}{fence}"


def verdict_line(report: Report) -> str:
    """The first line a reviewer reads."""
    counts = summary_counts(report)
    word = overall(report)
    icon = "✅" if word == Verdict.PASS.value else "❌"
    extra = f", {counts['allowed']} allowed" if counts["allowed"] else ""
    return (
        f"{icon} **mphunter-gate: {word.replace('-', ' ').upper()}**: "
        f"{counts['fail']} failed, {counts['unscanned']} unscanned, "
        f"{counts['pass']} passed of {counts['total']} package(s){extra} "
        f"(threshold {fmt_score(report.threshold)}, model {md(report.model_version)})"
    )


def table_rows(findings: list[Finding]) -> list[str]:
    """The package table (header included)."""
    rows = [
        "| | Package | Version | Score | Verdict | Declared in | Why |",
        "|---|---|---|---:|---|---|---|",
    ]
    for f in findings:
        rows.append(
            f"| {_ICON[f.verdict]} | {md(f.name, 80)} | {md(f.version, 40)} | {fmt_score(f.score)} "
            f"| {md(verdict_label(f))} | {md(where(f), 120)} | {md(f.reason, 160)} |"
        )
    return rows


def details(finding: Finding, threshold: float) -> list[str]:
    """The evidence block for one package that needs a reviewer."""
    ex = explain(finding)
    out = [
        f"### {_ICON[finding.verdict]} {md(finding.name, 80)} {md(finding.version, 40)}",
        "",
        f"- **Verdict:** {md(verdict_label(finding))} (declared in {code(where(finding))})",
        f"- **Why:** {md(finding.reason, 300)}",
    ]
    out += [f"- **Policy:** {md(hit, 400)}" for hit in policy_lines(finding)]
    if finding.scan is not None and finding.scan.reason != finding.reason:
        out.append(f"- **Scan:** {md(finding.scan.verdict.value)}: {md(finding.scan.reason, 300)}")
    if finding.score is not None:
        out.append(f"- **Score:** {fmt_score(finding.score)} (threshold {fmt_score(threshold)})")
    if ex.worst is not None:
        w = ex.worst
        out.append(
            f"- **Outlierness** of {code(w.path)}{md(stage_of(finding, w.path))}: "
            f"{fmt_score(w.outlierness)}; "
            f"distance to the nearest benign script {fmt_score(w.benign_distance)}"
        )
        if w.nearest_malicious:
            out.append(
                f"- **Nearest known-malicious sample:** {code(w.nearest_malicious, 120)} "
                f"(distance {fmt_score(w.malicious_distance)})"
            )
    if ex.evidence:
        out.append("- **Evidence** (API calls behind the score):")
        out += [f"  - {code(f'{c.file}:{c.line}')} {code(c.api, 120)}" for c in ex.evidence]
    if ex.indicators:
        out.append("- **String indicators:**")
        out += [
            f"  - {code(f'{i.file}:{i.line}')} {md(i.name)}: {code(i.excerpt, 80)}"
            for i in ex.indicators
        ]
    if ex.decoded:
        out.append("- **Decoded payloads:**")
        out += [
            f"  - {md(d.method)} at {code(f'{d.file}:{d.line}')}: {code(d.preview, 120)}"
            for d in ex.decoded
        ]
    for problem in ex.parse_problems:
        out.append(f"- **Parse:** {md(problem)}")
    for covered in covered_files(finding):
        out.append(f"- **File:** {md(covered, 300)}")
    for v in finding.vulnerabilities:
        fix = f" (fixed in {md(', '.join(v.fix_versions))})" if v.fix_versions else ""
        out.append(f"- **Vulnerability** {code(v.id)}{fix}: {md(v.description, 200)}")
    for note in finding.notes:
        out.append(f"- **Note:** {md(note, 300)}")
    if finding.allowed_by is not None:
        out.append(f"- **Allowed:** {md(finding.allowed_by, 300)}")
    elif finding.verdict is not Verdict.PASS:
        out.append("- **To allow it**, add to `allow = [...]` under `[tool.mphunter-gate]`:")
        out += ["", "  ```toml", f"  {clean(ex.allow)}", "  ```"]
    out.append("")
    return out


def render(report: Report, *, max_bytes: int | None = None) -> str:
    """The Markdown document, cut to fit `max_bytes` (UTF-8) if given.

    Packages are listed riskiest first, so when the budget runs out what is
    dropped is the tail of passing packages, and a line says how many.
    """
    findings = riskiest_first(report.findings)
    head = [verdict_line(report), ""]
    if report.advisories is not None:
        data = report.advisories
        head += [("⚠️ " if data.stale else "") + md(advisory_line(data), 600), ""]
    tail = ["", f"<sub>mphunter-gate {__version__}</sub>", ""]
    rows = table_rows(findings)
    blocks = [details(f, report.threshold) for f in findings if needs_explanation(f)]

    def assemble(n_rows: int, n_blocks: int) -> str:
        lines = list(head)
        if findings:
            lines += rows[: 2 + n_rows]
            if n_rows < len(findings):
                lines.append(f"\n_{len(findings) - n_rows} more package(s) not shown._")
            judged = [
                f"- {md(f.name, 80)} {md(f.version, 40)}: {md(c, 300)}"
                for f in findings[:n_rows]
                for c in covered_files(f)
            ]
            if judged:
                lines += [
                    "",
                    "<details><summary>Files judged</summary>",
                    "",
                    *judged,
                    "",
                    "</details>",
                ]
        else:
            lines.append("No packages were checked.")
        if n_blocks:
            lines += ["", "## Findings", ""]
            for block in blocks[:n_blocks]:
                lines += block
            if n_blocks < len(blocks):
                lines.append(f"_{len(blocks) - n_blocks} more finding(s) not shown._")
        return "\n".join(lines + tail)

    n_rows, n_blocks = len(findings), len(blocks)
    text = assemble(n_rows, n_blocks)
    if max_bytes is None:
        return text
    # Shrink details first, then rows, halving until the document fits.
    while len(text.encode("utf-8")) > max_bytes and (n_blocks or n_rows):
        if n_blocks:
            n_blocks //= 2
        else:
            n_rows //= 2
        text = assemble(n_rows, n_blocks)
    if len(text.encode("utf-8")) > max_bytes:
        text = "\n".join([*head, *tail])
    return text


class MarkdownFormatter(Formatter):
    """`--format markdown`: for pull-request comments and wikis."""

    name = "markdown"

    def format(self, report: Report) -> str:
        return render(report)
