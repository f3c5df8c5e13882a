"""GitHub Actions output: annotations, job summary, $GITHUB_OUTPUT, publish()."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from pathlib import Path

from mphunter_gate.report.github import (
    MAX_ANNOTATIONS,
    annotation_lines,
    escape_data,
    escape_property,
    job_summary,
    output_block,
    publish,
    workflow_command,
)
from mphunter_gate.types import Origin, Report
from tests.report.report_builders import HOSTILE, failing_finding, hostile_finding, make_report


def test_escaping_rules() -> None:
    assert escape_data("100%\r\nnext") == "100%25%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    line = workflow_command("error", "two\nlines", {"file": "a,b.txt", "line": 3, "col": None})
    assert line == "::error file=a%2Cb.txt,line=3::two%0Alines"


def test_annotation_points_at_manifest_line(mixed_report: Report) -> None:
    lines = annotation_lines(mixed_report, root=Path.cwd())
    errors = [line for line in lines if line.startswith("::error ")]
    warnings = [line for line in lines if line.startswith("::warning ")]
    assert len(errors) == 1 and len(warnings) == 1  # the fail, and the unscanned package
    assert errors[0].startswith("::error file=requirements.txt,line=3,title=mphunter-gate%3A ")
    message = errors[0].split("::", 2)[2]
    assert "setup.py:13 os.system" in message
    assert "sample-0042/setup.py (distance 0.120)" in message
    assert "%0A" in message and "\n" not in message


def test_absolute_manifest_path_is_made_workspace_relative(tmp_path: Path) -> None:
    finding = replace(failing_finding(), origin=Origin(str(tmp_path / "sub" / "req.txt"), 7))
    lines = annotation_lines(make_report(finding), root=tmp_path)
    assert lines[0].startswith("::error file=sub/req.txt,line=7,")


def test_top_ten_then_one_summary_annotation() -> None:
    findings = [failing_finding(name=f"pkg{i:02d}", line=i + 1) for i in range(14)]
    findings = [replace(f, score=0.8 + i / 100) for i, f in enumerate(findings)]
    lines = annotation_lines(make_report(*findings))
    assert len(lines) == MAX_ANNOTATIONS + 1
    # The riskiest (highest score) first.
    assert "pkg13" in lines[0] and "pkg04" in lines[MAX_ANNOTATIONS - 1]
    assert lines[-1].startswith("::warning ") and "4 more package(s)" in lines[-1]


def test_hostile_text_cannot_forge_a_command() -> None:
    lines = annotation_lines(make_report(hostile_finding()))
    assert len(lines) == 1
    props, _message = lines[0][len("::error ") :].split("::", 1)
    # The injected "::error::" survives only inside the message, escaped onto one line.
    assert "\n" not in lines[0] and "\r" not in lines[0] and "\x1b" not in lines[0]
    keys = [prop.split("=", 1)[0] for prop in props.split(",")]
    assert keys == ["file", "line", "title"]  # nothing injected
    assert "%2C" in props and "%3A" in props


def test_output_block_multiline_uses_random_delimiter() -> None:
    assert output_block("verdict", "fail") == "verdict=fail\n"
    block = output_block("notes", "a\nb")
    match = re.fullmatch(r"notes<<(ghadelimiter_[0-9a-f]{32})\na\nb\n\1\n", block)
    assert match
    assert block != output_block("notes", "a\nb")


def test_job_summary_fits_the_limit() -> None:
    findings = [failing_finding(name=f"p{i}") for i in range(400)]
    big = make_report(*findings)
    unbounded = job_summary(big, max_bytes=10**9)
    assert len(unbounded.encode()) > 60_000
    text = job_summary(big, max_bytes=60_000)
    assert len(text.encode()) <= 60_000 + 1
    assert text.startswith("❌ **mphunter-gate: FAIL**")
    assert "not shown" in text


def test_publish_writes_annotations_summary_and_outputs(tmp_path: Path, mixed_report) -> None:
    summary, output = tmp_path / "summary.md", tmp_path / "output.txt"
    env = {
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(output),
        "GITHUB_WORKSPACE": str(tmp_path),
    }
    stream = io.StringIO()
    done = publish(mixed_report, sarif_file="/tmp/x.sarif", environ=env, stream=stream)
    assert done.annotations == 2 and done.summary_written and done.outputs_written
    assert stream.getvalue().startswith("::error file=requirements.txt,line=3,")
    text = summary.read_text()
    assert "| ❌ | evilpkg | 1.0.0 | 0.970 | FAIL |" in text
    assert "sample-0042/setup.py" in text
    outputs = output.read_text().splitlines()
    assert "verdict=fail" in outputs
    assert "failed-count=1" in outputs
    assert "unscanned-count=1" in outputs
    assert "sarif-file=/tmp/x.sarif" in outputs


def test_publish_outside_actions_writes_no_files(mixed_report) -> None:
    done = publish(mixed_report, environ={}, stream=io.StringIO())
    assert not done.summary_written and not done.outputs_written


def test_publish_without_job_summary(tmp_path: Path, mixed_report) -> None:
    summary = tmp_path / "summary.md"
    env = {"GITHUB_STEP_SUMMARY": str(summary)}
    publish(mixed_report, environ=env, stream=io.StringIO(), job_summary_enabled=False)
    assert not summary.exists()


def test_hostile_payload_in_summary_is_inert() -> None:
    text = job_summary(make_report(hostile_finding()))
    assert HOSTILE not in text and "\x1b" not in text
