"""SARIF 2.1.0: valid against the OASIS schema, rules, levels, fingerprints."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest

from mphunter_gate.report.sarif import FINGERPRINT_KEY, SarifFormatter
from mphunter_gate.types import Report, Verdict
from tests.report.report_builders import failing_finding, make_report, unscanned_finding

SCHEMA = Path(__file__).resolve().parents[3] / "shared" / "schemas" / "sarif-schema-2.1.0.json"


def _doc(report: Report) -> dict:
    return json.loads(SarifFormatter().format(report))


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    if not SCHEMA.exists():
        pytest.skip(f"SARIF schema not found at {SCHEMA}")
    return jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))


def test_validates_against_sarif_schema(validator, mixed_report: Report) -> None:
    doc = _doc(mixed_report)
    errors = sorted(validator.iter_errors(doc), key=str)
    assert not errors, errors[0].message
    assert doc["version"] == "2.1.0"


def test_schema_check_can_fail(validator, mixed_report: Report) -> None:
    doc = _doc(mixed_report)
    doc["runs"][0]["results"][0]["level"] = "catastrophic"
    assert list(validator.iter_errors(doc))


def test_empty_report_is_valid(validator) -> None:
    doc = _doc(make_report())
    assert not list(validator.iter_errors(doc))
    assert doc["runs"][0]["results"] == []


def test_rules_one_per_kind_with_numeric_security_severity(mixed_report: Report) -> None:
    run = _doc(mixed_report)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    assert ids == [
        "malicious-install-script",
        "unscanned-dependency",
        "known-vulnerability",
        "known-malware",
        "release-age",
        "yanked-release",
        "lookalike-name",
    ]
    for rule in rules:
        severity = float(rule["properties"]["security-severity"])
        assert 0.0 <= severity <= 10.0
    by_rule = {r["ruleId"]: r for r in run["results"]}
    assert set(by_rule) == set(ids[:3])  # this report has no policy hits
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    assert by_rule["malicious-install-script"]["level"] == "error"
    assert by_rule["unscanned-dependency"]["level"] == "warning"


def test_location_is_the_manifest_line(mixed_report: Report) -> None:
    results = _doc(mixed_report)["runs"][0]["results"]
    evil = next(r for r in results if r["ruleId"] == "malicious-install-script")
    loc = evil["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == "requirements.txt"
    assert loc["region"]["startLine"] == 3
    assert "setup.py:13 os.system" in evil["message"]["text"]
    assert evil["properties"]["package"] == "evilpkg"


def test_fingerprints_are_stable_across_lines_and_scores_but_not_artifacts() -> None:
    def fp(finding) -> str:
        return _doc(make_report(finding))["runs"][0]["results"][0]["partialFingerprints"][
            FINGERPRINT_KEY
        ]

    base = failing_finding()
    assert fp(base) == fp(failing_finding(line=40))  # line moved
    assert fp(base) == fp(replace(base, score=0.85))  # model changed
    assert fp(base) == fp(replace(base, name="EvilPkg"))  # same project, other spelling
    assert fp(base) != fp(replace(base, version="1.0.1"))
    assert fp(base) != fp(replace(base, sha256="00" * 32))
    assert fp(base) != fp(unscanned_finding())


def test_allowed_finding_is_reported_as_suppressed(validator) -> None:
    allowed = replace(
        failing_finding(), verdict=Verdict.PASS, allowed_by="evilpkg==1.0.0: reviewed by sec team"
    )
    doc = _doc(make_report(allowed))
    assert not list(validator.iter_errors(doc))
    result = doc["runs"][0]["results"][0]
    assert result["suppressions"][0]["kind"] == "external"
    assert "reviewed by sec team" in result["suppressions"][0]["justification"]
