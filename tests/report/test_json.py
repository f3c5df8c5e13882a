"""The JSON contract: shape, types, and that it carries the gate's values as-is."""

from __future__ import annotations

import json

from mphunter_gate import __version__
from mphunter_gate.report.json import MAX_EVIDENCE_PER_FILE, JsonFormatter
from mphunter_gate.types import (
    ApiCall,
    Finding,
    ParseMode,
    Report,
    ScriptAnalysis,
    ScriptKind,
    Verdict,
)
from tests.report.report_builders import failing_finding, make_report


def _doc(report: Report) -> dict:
    return json.loads(JsonFormatter().format(report))


def test_top_level_contract(mixed_report: Report) -> None:
    doc = _doc(mixed_report)
    assert doc["schema_version"] == 1
    assert doc["tool"] == {"name": "mphunter-gate", "version": __version__}
    assert doc["verdict"] == "fail"
    assert doc["threshold"] == 0.8
    assert doc["model_version"] == "2025.1-test"
    assert doc["summary"] == {
        "total": 4,
        "pass": 2,
        "fail": 1,
        "unscanned": 1,
        "allowed": 0,
        "vulnerabilities": 1,
    }
    # Results keep the gate's order (formatters never reorder the contract).
    assert [r["name"] for r in doc["results"]] == ["plain", "vulnpkg", "mystery", "evilpkg"]


def test_result_fields(mixed_report: Report) -> None:
    results = {r["name"]: r for r in _doc(mixed_report)["results"]}
    evil = results["evilpkg"]
    assert evil["verdict"] == "fail" and evil["score"] == 0.97
    assert evil["origin"] == {"file": "requirements.txt", "line": 3}
    assert evil["source"] == "requirements.txt"
    assert evil["sha256"] == "ab" * 32
    assert evil["rule"] == "malicious-install-script"
    setup = evil["files"][0]
    assert setup["path"] == "setup.py" and setup["kind"] == "setup.py" and setup["parse"] == "ast"
    assert setup["score"] == 0.97 and setup["outlierness"] == 0.99
    assert setup["nearest_malicious"] == "sample-0042/setup.py"
    assert setup["malicious_distance"] == 0.12
    assert setup["decoded"][0]["method"] == "base64"
    assert {"api": "os.system", "file": "setup.py", "line": 13, "sensitive": True} in setup[
        "evidence"
    ]
    assert setup["evidence"][0]["sensitive"] is True  # sensitive calls first
    init = evil["files"][1]
    assert init["parse"] == "tokens" and init["error"] == "invalid syntax"
    assert evil["explanation"]["allow"].startswith("{ package = ")

    unscanned = results["mystery"]
    assert unscanned["verdict"] == "unscanned" and unscanned["score"] is None
    assert unscanned["files"] == [] and unscanned["sha256"] is None
    assert results["plain"]["explanation"] is None
    assert results["vulnpkg"]["vulnerabilities"][0]["id"] == "PYSEC-0000-1"


def test_source_is_the_path_exactly_as_given() -> None:
    f = Finding("x", "1", "./dl/../x-1.tar.gz", Verdict.PASS, 0.1, "ok")
    doc = _doc(make_report(f))
    assert doc["results"][0]["source"] == "./dl/../x-1.tar.gz"
    assert doc["results"][0]["origin"] is None


def test_evidence_per_file_is_capped() -> None:
    calls = tuple(ApiCall(f"m.f{i}", "setup.py", i + 1) for i in range(MAX_EVIDENCE_PER_FILE + 5))
    analysis = ScriptAnalysis("setup.py", ScriptKind.SETUP, ParseMode.AST, (calls,))
    f = Finding("big", "1", "r.txt", Verdict.PASS, 0.1, "ok", analyses=(analysis,))
    entry = _doc(make_report(f))["results"][0]["files"][0]
    assert len(entry["evidence"]) == MAX_EVIDENCE_PER_FILE
    assert entry["evidence_truncated"] is True


def test_output_is_ascii_and_parses() -> None:
    text = JsonFormatter().format(make_report(failing_finding(name="ünï")))
    assert text.isascii()
    assert json.loads(text)["results"][0]["name"] == "ünï"


def test_string_indicators_are_in_the_explanation() -> None:
    doc = json.loads(JsonFormatter().format(make_report(failing_finding())))
    (row,) = doc["results"]
    assert row["explanation"]["indicators"][0]["name"] == "download_execute"
    assert row["files"][0]["indicators"][0]["line"] == 11


def test_call_sites_are_listed_for_the_riskiest_files_only() -> None:
    from mphunter_gate.report.json import MAX_DETAILED_FILES
    from mphunter_gate.types import ScriptScore

    n = MAX_DETAILED_FILES + 3
    analyses = tuple(
        ScriptAnalysis(
            f"m{i}.py", ScriptKind.MODULE, ParseMode.AST, ((ApiCall("os.getpid", f"m{i}.py", 1),),)
        )
        for i in range(n)
    )
    scores = tuple(ScriptScore(f"m{i}.py", i / n, 0.0, 0.0, 2.0, None) for i in range(n))
    f = Finding("big", "1", "r.txt", Verdict.PASS, 0.1, "ok", analyses=analyses, scores=scores)
    rows = {r["path"]: r for r in _doc(make_report(f))["results"][0]["files"]}
    assert len(rows) == n  # every file has its row
    assert rows["m0.py"]["evidence_omitted"] and rows["m0.py"]["evidence"] == []
    assert not rows[f"m{n - 1}.py"]["evidence_omitted"] and rows[f"m{n - 1}.py"]["evidence"]
