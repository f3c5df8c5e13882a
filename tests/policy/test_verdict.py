"""One row verdict from the scan and the hits; the allowlist passes each part only
with an entry that covers it; every format shows the hits."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import jsonschema
import pytest

from mphunter_gate.config import Config, apply_allowlist, load_config
from mphunter_gate.errors import InputError
from mphunter_gate.policy.verdict import with_hits
from mphunter_gate.report import formatter_for
from mphunter_gate.types import AdvisoryData, Finding, HitLevel, PolicyHit, Report, Verdict

MAL = PolicyHit("known-malware", HitLevel.FAIL, "MAL-2026-1234: Malicious code", "MAL-2026-1234")
YOUNG = PolicyHit("release-age", HitLevel.FAIL, "uploaded 5 h ago; policy: at least 7 days")
LOOK = PolicyHit("lookalike-name", HitLevel.WARNING, "name resembles requests")
SCHEMA = Path(__file__).resolve().parents[3] / "shared" / "schemas" / "sarif-schema-2.1.0.json"


def _row(verdict: Verdict = Verdict.PASS, score: float = 0.1) -> Finding:
    return Finding("evil-widgets", "1.0", "e.tar.gz", verdict, score, "1 script(s) below threshold")


def _config(tmp_path: Path, entries: str) -> Config:
    (tmp_path / "pyproject.toml").write_text(entries)
    return load_config(tmp_path, environ={})


def _allowed(tmp_path: Path, finding: Finding, entries: str) -> Finding:
    report = Report(Verdict.FAIL, 0.9, "t", (finding,))
    return apply_allowlist(report, _config(tmp_path, entries), date(2026, 12, 1)).findings[0]


def test_an_advisory_fails_whatever_the_score() -> None:
    row = with_hits(_row(score=0.01), [MAL])
    assert row.verdict is Verdict.FAIL
    assert row.reason == "MAL-2026-1234: Malicious code; 1 script(s) below threshold"
    assert row.scan is not None and row.scan.verdict is Verdict.PASS


def test_a_warning_never_fails_and_stays_out_of_the_reason() -> None:
    row = with_hits(_row(), [LOOK])
    assert row.verdict is Verdict.PASS and row.reason == "1 script(s) below threshold"
    assert with_hits(_row(), []) == _row()


def test_only_an_entry_naming_the_advisory_passes_it(tmp_path: Path) -> None:
    row = with_hits(_row(Verdict.FAIL, 0.99), [MAL])
    plain = '[[tool.mphunter-gate.allow]]\npackage = "evil-widgets"\nreason = "r"\n'
    still = _allowed(tmp_path, row, plain)
    assert still.verdict is Verdict.FAIL and still.scan and still.scan.allowed_by
    assert any("allowed only by an entry naming it" in n for n in still.notes)
    both = plain + '[[tool.mphunter-gate.allow]]\nadvisory = "mal-2026-1234"\nreason = "ours"\n'
    passed = _allowed(tmp_path, row, both)
    assert passed.verdict is Verdict.PASS and passed.allowed_by
    assert passed.policy[0].allowed_by and "MAL-2026-1234" in passed.reason
    # the advisory entry alone leaves the scan's failure standing
    alone = '[[tool.mphunter-gate.allow]]\nadvisory = "MAL-2026-1234"\nreason = "ours"\n'
    assert _allowed(tmp_path, row, alone).verdict is Verdict.FAIL


def test_a_rule_exemption_passes_that_rule_only(tmp_path: Path) -> None:
    entry = (
        '[[tool.mphunter-gate.allow]]\npackage = "evil-widgets"\nrule = "release-age"\n'
        'reason = "ours"\n'
    )
    assert _allowed(tmp_path, with_hits(_row(), [YOUNG]), entry).verdict is Verdict.PASS
    assert _allowed(tmp_path, with_hits(_row(), [YOUNG, MAL]), entry).verdict is Verdict.FAIL
    assert (
        _allowed(tmp_path, with_hits(_row(Verdict.FAIL, 0.99), [YOUNG]), entry).verdict
        is Verdict.FAIL
    )


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('package = "x"\nrule = "known-malware"', "rule must be one of"),
        ('advisory = "MAL-1"\nrule = "release-age"', "no advisory, url"),
        ('rule = "release-age"', "rule needs the package"),
        ('advisory = "not an id"', "advisory must be an advisory id"),
        (
            'advisory = "MAL-2026-1"\nsha256 = "' + "a" * 64 + '"',
            "advisory takes a package at most",
        ),
    ],
)
def test_bad_policy_allow_entries_name_file_and_line(
    tmp_path: Path, entry: str, message: str
) -> None:
    with pytest.raises(InputError) as err:
        _config(tmp_path, f'[[tool.mphunter-gate.allow]]\n{entry}\nreason = "r"\n')
    assert str(err.value).startswith(f"{tmp_path / 'pyproject.toml'}:1: ") and message in str(
        err.value
    )


def _policy_report() -> Report:
    evil = with_hits(_row(), [MAL])
    look = with_hits(Finding("reqeusts", "2.0", "r.tar.gz", Verdict.PASS, 0.2, "ok"), [LOOK])
    data = AdvisoryData("/data/all.zip", 12, "2026-11-20T00:00:00+00:00", "fetched", 11.0)
    return Report(Verdict.FAIL, 0.9, "t", (evil, look), advisories=data)


@pytest.mark.parametrize("fmt", ["text", "json", "markdown", "sarif", "github"])
def test_every_format_shows_the_advisory_its_rule_and_the_stale_data(fmt: str) -> None:
    out = formatter_for(fmt).format(_policy_report())
    assert "MAL-2026-1234" in out
    assert "11.0 days old" in out or fmt == "github" or fmt == "json"
    if fmt in ("text", "markdown", "sarif", "github"):
        assert "older than 7 days" in out


def test_sarif_has_one_result_per_hit_under_its_rule() -> None:
    doc = json.loads(formatter_for("sarif").format(_policy_report()))
    results = {(r["ruleId"], r["level"]) for r in doc["runs"][0]["results"]}
    assert results == {("known-malware", "error"), ("lookalike-name", "warning")}
    if SCHEMA.exists():
        validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))
        assert not list(validator.iter_errors(doc))
    js = json.loads(formatter_for("json").format(_policy_report()))
    assert js["advisories"]["stale"] is True and js["results"][0]["rule"] == "known-malware"
