"""The shared explanation: ordering of evidence, sanitising, allow snippet."""

from __future__ import annotations

import sys
from dataclasses import replace

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

from mphunter_gate.report.explain import (
    RULE_MALICIOUS,
    clean,
    explain,
    is_sensitive,
    riskiest_first,
    rule_of,
    sensitive_prefixes,
)
from mphunter_gate.types import Verdict
from tests.report.report_builders import HOSTILE, failing_finding, hostile_finding, passing_finding


def test_sensitive_list_is_loaded_from_data_file() -> None:
    prefixes = sensitive_prefixes()
    assert "os.system" in prefixes and "subprocess" in prefixes
    assert all(not p.startswith("#") and p == p.strip() for p in prefixes)


def test_is_sensitive_matches_prefix_by_dotted_parts() -> None:
    assert is_sensitive("subprocess.Popen")
    assert is_sensitive("os.system")
    assert is_sensitive("builtins.exec")
    assert is_sensitive("exec")
    assert not is_sensitive("subprocessing.run")  # a prefix of the text, not of the parts
    assert not is_sensitive("os.path.join")
    assert not is_sensitive("setuptools.setup")


def test_evidence_puts_sensitive_calls_of_the_worst_script_first() -> None:
    ex = explain(failing_finding())
    apis = [c.api for c in ex.evidence]
    assert apis[:3] == ["base64.b64decode", "os.system", "socket.socket"]
    assert set(apis[3:]) == {"os.path.join", "setuptools.setup"}
    assert ex.worst is not None and ex.worst.nearest_malicious == "sample-0042/setup.py"
    assert ex.decoded[0].method == "base64"
    assert ex.parse_problems == ("evilpkg/__init__.py: tokens (invalid syntax)",)


def test_a_truncated_walk_is_a_parse_problem() -> None:
    finding = failing_finding()
    cut = replace(finding.analyses[0], truncated=True)
    ex = explain(replace(finding, analyses=(cut, *finding.analyses[1:])))
    assert f"{cut.path}: analysis cut at a size cap or work budget" in " | ".join(ex.parse_problems)


def test_evidence_is_bounded() -> None:
    assert len(explain(failing_finding(), max_evidence=2).evidence) == 2


def test_allow_snippet_is_valid_toml_naming_the_release_and_hash() -> None:
    snippet = explain(failing_finding()).allow
    data = tomllib.loads(f"allow = [{snippet}]")
    assert data["allow"][0]["package"] == "evilpkg==1.0.0"
    assert data["allow"][0]["sha256"] == "ab" * 32
    assert data["allow"][0]["reason"]


def test_allow_snippet_without_a_version_names_the_package_alone() -> None:
    snippet = explain(replace(failing_finding(), version="")).allow
    assert tomllib.loads(f"allow = [{snippet}]")["allow"][0]["package"] == "evilpkg"


def test_allow_snippet_of_hostile_name_stays_one_valid_toml_line() -> None:
    snippet = explain(hostile_finding()).allow
    assert "\n" not in snippet and "\r" not in snippet
    data = tomllib.loads(f"allow = [{snippet}]")
    assert data["allow"][0]["package"].startswith("bad")


def test_clean_strips_control_and_bidi_characters() -> None:
    out = clean(HOSTILE)
    assert "\n" not in out and "\r" not in out and "\x1b" not in out and "\u202e" not in out
    assert clean("abcdef", limit=4) == "abc…"


def test_rules_and_risk_order() -> None:
    fail, ok = failing_finding(), passing_finding()
    assert rule_of(fail) == RULE_MALICIOUS
    assert rule_of(ok) is None
    ordered = riskiest_first([ok, fail])
    assert [f.verdict for f in ordered] == [Verdict.FAIL, Verdict.PASS]
