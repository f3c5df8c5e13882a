"""Every format: the factory, the explanations, and hostile package text."""

from __future__ import annotations

import re

import pytest

from mphunter_gate.errors import InputError
from mphunter_gate.report import FORMAT_NAMES, formatter_for
from mphunter_gate.types import Report
from tests.report.report_builders import HOSTILE, hostile_finding, make_report


@pytest.mark.parametrize("name", FORMAT_NAMES)
def test_factory_returns_the_named_formatter(name: str) -> None:
    assert formatter_for(name).name == name


def test_unknown_format_is_an_input_error() -> None:
    with pytest.raises(InputError, match="unknown report format 'xml'"):
        formatter_for("xml")


@pytest.mark.parametrize("name", FORMAT_NAMES)
def test_every_format_explains_a_failure(name: str, mixed_report: Report) -> None:
    out = formatter_for(name).format(mixed_report)
    if name == "json":  # structured, not prose: flatten the explanation to compare
        import json

        results = json.loads(out)["results"]
        ex = next(r for r in results if r["name"] == "evilpkg")["explanation"]
        calls = ", ".join(f"{e['file']}:{e['line']} {e['api']}" for e in ex["evidence"])
        out += calls + str(ex) + " outlierness"
    # The evidence behind the score, with file and line.
    assert "setup.py:13" in out and "os.system" in out
    assert "base64.b64decode" in out
    # The decoded payload, the nearest malicious sample and its distance, outlierness.
    assert "curl http://example.invalid/x" in out
    assert "sample-0042/setup.py" in out
    assert "0.120" in out or "0.12" in out
    assert "outlierness" in out.lower()
    # A way to allow it.
    assert "evilpkg==1.0.0" in out
    # Every package appears, including the ones that passed.
    assert "mystery" in out
    if name not in {"github", "sarif"}:  # these list only what needs action
        assert "plain" in out


@pytest.mark.parametrize("name", ["text", "markdown", "github"])
def test_hostile_text_cannot_break_out(name: str) -> None:
    out = formatter_for(name).format(make_report(hostile_finding()))
    assert "\x1b" not in out and "\u202e" not in out and "\r" not in out
    for line in out.splitlines():
        # No line may start a workflow command except our own.
        if line.startswith("::"):
            ours = ("::error ", "::warning ", "::group::", "::endgroup::", "::stop-commands::")
            assert line.startswith(ours) or line.strip(":").isalnum(), line


def test_hostile_text_is_escaped_in_markdown() -> None:
    out = formatter_for("markdown").format(make_report(hostile_finding()))
    no_fences = re.sub(r"^ *```toml\n.*?\n *```$", "", out, flags=re.S | re.M)
    outside_code = re.sub(r"(`+).*?\1", "", no_fences)
    assert re.search(r"(?<!\\)<img", outside_code) is None
    table = [line for line in out.splitlines() if line.startswith("| ❌")]
    assert len(table) == 1
    assert table[0].count(" | ") == 6  # the injected pipe did not add a column


def test_hostile_fragment_survives_verbatim_in_json() -> None:
    import json

    data = json.loads(formatter_for("json").format(make_report(hostile_finding())))
    assert data["results"][0]["name"] == "bad" + HOSTILE


@pytest.mark.parametrize("name", FORMAT_NAMES)
def test_an_empty_report_never_reads_as_a_pass(name: str) -> None:
    """No package checked is exit 4: no format may call it a pass."""
    import json

    out = formatter_for(name).format(make_report())
    if name == "json":
        assert json.loads(out)["verdict"] == "nothing-scanned"
    elif name in ("text", "markdown", "github"):
        assert "NOTHING SCANNED" in out and "PASS" not in out and "✅" not in out
    else:  # SARIF: no result, no claim
        assert json.loads(out)["runs"][0]["results"] == []
