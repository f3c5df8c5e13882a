"""GitHub Actions: error annotations on the manifest line, a job summary, outputs.

The annotation lands on the line of the dependency file that pulled the
package in, which is where a reviewer can act. GitHub shows at most ten
error annotations per step, so the ten riskiest are emitted and one warning
says how many more there are. Workflow commands are parsed from stdout, so
everything is escaped: `%`, CR and LF in messages, plus `:` and `,` in
properties; text from an sdist has control characters stripped first, so a
package name cannot smuggle in a command of its own.

`publish()` is what `mphunter-gate check --github` calls: annotations to
stdout, Markdown to `$GITHUB_STEP_SUMMARY`, `verdict` / `failed-count` /
`sarif-file` to `$GITHUB_OUTPUT`.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from mphunter_gate.report.base import Formatter
from mphunter_gate.report.explain import (
    advisory_line,
    clean,
    explain,
    fmt_score,
    overall,
    riskiest_first,
    summary_counts,
)
from mphunter_gate.report.markdown import render as render_markdown
from mphunter_gate.types import Finding, Report, Verdict

#: GitHub shows this many error annotations per step.
MAX_ANNOTATIONS = 10
#: GitHub refuses job summaries over 1 MiB; keep a margin for other steps.
MAX_SUMMARY_BYTES = 1024 * 1024 - 16 * 1024


def escape_data(text: str) -> str:
    """A workflow-command message: `%`, CR and LF escaped."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow-command property value: the message escapes plus `:` and `,`."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_command(
    command: str, message: str, properties: Mapping[str, str | int | None] | None = None
) -> str:
    """`::command k=v,k=v::message`, every part escaped (lines kept as %0A)."""
    props = ",".join(
        f"{key}={escape_property(str(value))}"
        for key, value in (properties or {}).items()
        if value is not None and value != ""
    )
    return f"::{command}{' ' + props if props else ''}::{escape_data(message)}"


def _relative(path: str, root: Path | None) -> str:
    """Paths in annotations are relative to the workspace (GitHub matches on them)."""
    p = Path(path)
    if root is not None and p.is_absolute():
        try:
            return p.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            return p.as_posix()
    return path.replace("\\", "/")


def _message(finding: Finding) -> str:
    ex = explain(finding, max_evidence=5, max_decoded=2)
    lines = [clean(finding.reason, 300)]
    if ex.worst is not None:
        w = ex.worst
        lines.append(f"outlierness {fmt_score(w.outlierness)} ({clean(w.path, 120)})")
        if w.nearest_malicious:
            lines.append(
                f"nearest known-malicious: {clean(w.nearest_malicious, 100)} "
                f"(distance {fmt_score(w.malicious_distance)})"
            )
    lines += [f"{clean(c.file, 120)}:{c.line} {clean(c.api, 100)}" for c in ex.evidence]
    lines += [
        f"decoded {clean(d.method, 30)} at {clean(d.file, 120)}:{d.line}: {clean(d.preview, 80)}"
        for d in ex.decoded
    ]
    lines += [f"note: {clean(n, 200)}" for n in finding.notes]
    lines.append(f"to allow: add {ex.allow} to allow = [...] under [tool.mphunter-gate]")
    return "\n".join(lines)


_POLICY_TITLES = {
    "known-malware": "is known malware",
    "release-age": "is too new for the release-age policy",
    "yanked-release": "is a yanked release",
}


def _title(finding: Finding) -> str:
    name = f"{clean(finding.name, 80)} {clean(finding.version, 40)}"
    hit = next((h for h in finding.policy if h.blocks), None)
    if hit is not None:
        what = _POLICY_TITLES.get(hit.rule, f"fails {hit.rule}")
        return f"mphunter-gate: {name} {what}" + (
            f" ({clean(hit.advisory)})" if hit.advisory else ""
        )
    if finding.verdict is Verdict.FAIL:
        return f"mphunter-gate: {name} looks malicious (score {fmt_score(finding.score)})"
    return f"mphunter-gate: {name} could not be scanned"


def annotation_lines(report: Report, *, root: Path | None = None) -> list[str]:
    """Workflow commands for the failing and unscanned packages, riskiest first."""
    flagged = [f for f in riskiest_first(report.findings) if f.verdict is not Verdict.PASS]
    lines = []
    for finding in flagged[:MAX_ANNOTATIONS]:
        props: dict[str, str | int | None] = {"title": _title(finding)}
        if finding.origin is not None:
            props = {
                "file": clean(_relative(finding.origin.file, root)),
                "line": finding.origin.line,
                **props,
            }
        command = "error" if finding.verdict is Verdict.FAIL else "warning"
        lines.append(workflow_command(command, _message(finding), props))
    if report.advisories is not None and report.advisories.stale:
        lines.append(
            workflow_command(
                "warning",
                clean(advisory_line(report.advisories), 600),
                {"title": "mphunter-gate: malware advisory data is stale"},
            )
        )
    if len(flagged) > MAX_ANNOTATIONS:
        more = len(flagged) - MAX_ANNOTATIONS
        lines.append(
            workflow_command(
                "warning",
                f"{more} more package(s) failed or could not be scanned; "
                "see the job summary or the SARIF report for all of them.",
                {"title": "mphunter-gate: more findings"},
            )
        )
    return lines


def job_summary(report: Report, *, max_bytes: int = MAX_SUMMARY_BYTES) -> str:
    """The Markdown job summary: verdict line, table of packages, evidence."""
    return render_markdown(report, max_bytes=max_bytes) + "\n"


def _append(path: str | os.PathLike[str], text: str) -> None:
    with open(path, "a", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


def write_step_summary(markdown: str, environ: Mapping[str, str] | None = None) -> bool:
    """Append to `$GITHUB_STEP_SUMMARY`; False when not running in Actions."""
    env = os.environ if environ is None else environ
    path = env.get("GITHUB_STEP_SUMMARY")
    if not path:
        return False
    _append(path, markdown)
    return True


def output_block(name: str, value: str) -> str:
    """One `$GITHUB_OUTPUT` entry; multi-line values use a random heredoc delimiter."""
    if "\n" not in value and "\r" not in value:
        return f"{name}={value}\n"
    while True:
        delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
        if delimiter not in value:
            break
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def write_outputs(values: Mapping[str, str], environ: Mapping[str, str] | None = None) -> bool:
    """Append `values` to `$GITHUB_OUTPUT`; False when not running in Actions."""
    env = os.environ if environ is None else environ
    path = env.get("GITHUB_OUTPUT")
    if not path:
        return False
    _append(path, "".join(output_block(k, v) for k, v in values.items()))
    return True


@dataclass(frozen=True)
class Published:
    """What `publish` did, for the CLI's log line and for tests."""

    annotations: int
    summary_written: bool
    outputs_written: bool


def publish(
    report: Report,
    *,
    sarif_file: str | None = None,
    job_summary_enabled: bool = True,
    environ: Mapping[str, str] | None = None,
    stream: TextIO | None = None,
) -> Published:
    """Everything `--github` adds to a run: annotations, summary and outputs."""
    env = os.environ if environ is None else environ
    out = stream if stream is not None else sys.stdout
    workspace = env.get("GITHUB_WORKSPACE")
    lines = annotation_lines(report, root=Path(workspace) if workspace else Path.cwd())
    for line in lines:
        out.write(line + "\n")
    out.flush()
    summary_written = job_summary_enabled and write_step_summary(job_summary(report), env)
    counts = summary_counts(report)
    outputs_written = write_outputs(
        {
            "verdict": overall(report),
            "failed-count": str(counts["fail"]),
            "unscanned-count": str(counts["unscanned"]),
            "sarif-file": sarif_file or "",
        },
        env,
    )
    return Published(len(lines), summary_written, outputs_written)


class GitHubFormatter(Formatter):
    """`--format github`: the annotations, then the summary as a log group."""

    name = "github"

    def format(self, report: Report) -> str:
        lines = annotation_lines(report, root=Path.cwd())
        lines.append("::group::mphunter-gate summary")
        # The summary is printed raw inside the group; stop command processing
        # around it so no line of it can ever be read as a workflow command.
        token = secrets.token_hex(16)
        lines.append(f"::stop-commands::{token}")
        lines += job_summary(report).splitlines()
        lines.append(f"::{token}::")
        lines.append("::endgroup::")
        return "\n".join(lines) + "\n"
