"""`--audit-vulns`: pip-audit's JSON parsed, merged into findings, failures are infra errors."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest
from packaging.version import Version

from mphunter_gate.errors import InfraError
from mphunter_gate.types import Finding, Report, Verdict, Vulnerability
from mphunter_gate.vulns import (
    AuditResult,
    audit,
    audit_argv,
    merge,
    parse,
    pinned_lines,
    query,
)

# The shape pip-audit 2.x prints with `--format json --desc on --aliases on`;
# identifiers and texts are made up.
AUDIT_JSON = json.dumps(
    {
        "dependencies": [
            {
                "name": "old-templates",
                "version": "2.10",
                "vulns": [
                    {
                        "id": "PYSEC-0000-1",
                        "fix_versions": ["2.10.1"],
                        "aliases": ["CVE-0000-0001", "GHSA-xxxx-yyyy-zzzz"],
                        "description": "Sandbox escape in a made-up template engine.",
                    },
                    {"id": "GHSA-aaaa-bbbb-cccc", "fix_versions": [], "aliases": []},
                ],
            },
            {"name": "fine-pkg", "version": "1.0", "vulns": []},
            {"name": "private-pkg", "skip_reason": "Dependency not found on PyPI"},
        ],
        "fixes": [],
    }
)


def finding(name: str, version: str, **kw: object) -> Finding:
    base: dict[str, object] = {
        "name": name,
        "version": version,
        "source": f"{name}-{version}.tar.gz",
        "verdict": Verdict.PASS,
        "score": 0.1,
        "reason": "1 script(s) below threshold",
        "sha256": "a" * 64,
    }
    base.update(kw)
    return Finding(**base)  # type: ignore[arg-type]


def report(*findings: Finding) -> Report:
    return Report(Verdict.PASS, 0.5, "t", findings)


class FakeAudit:
    """Stands in for pip-audit: records argv and the pins it was given."""

    def __init__(self, stdout: str = AUDIT_JSON, code: int = 1, stderr: str = "") -> None:
        self.stdout, self.code, self.stderr = stdout, code, stderr
        self.argv: list[str] = []
        self.pins: list[str] = []

    def __call__(self, argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
        self.argv = list(argv)
        self.pins = Path(argv[argv.index("-r") + 1]).read_text().splitlines()
        return subprocess.CompletedProcess(list(argv), self.code, self.stdout, self.stderr)


def test_parse_reads_vulnerabilities_and_skips() -> None:
    result = parse(AUDIT_JSON)
    vulns = result.vulnerabilities[("old-templates", Version("2.10"))]
    assert vulns[0] == Vulnerability(
        id="PYSEC-0000-1",
        description="Sandbox escape in a made-up template engine.",
        aliases=("CVE-0000-0001", "GHSA-xxxx-yyyy-zzzz"),
        fix_versions=("2.10.1",),
    )
    assert vulns[1] == Vulnerability(id="GHSA-aaaa-bbbb-cccc")
    assert result.vulnerabilities[("fine-pkg", Version("1.0"))] == ()
    assert result.skipped == {"private-pkg": "Dependency not found on PyPI"}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "No known vulnerabilities found",
        "[]",
        '{"dependencies": [{"version": "1"}]}',
        '{"dependencies": [{"name": "x", "version": "1", "vulns": [{"fix_versions": []}]}]}',
    ],
)
def test_parse_refuses_anything_else(text: str) -> None:
    with pytest.raises(InfraError, match="pip-audit"):
        parse(text)


def test_pinned_lines_are_unique_sorted_and_skip_non_releases() -> None:
    lines = pinned_lines(
        [
            finding("Zeta_Pkg", "2.0"),
            finding("alpha", "1.0.0"),
            finding("zeta-pkg", "2.0"),  # same release, other spelling
            finding("./vendored", "", verdict=Verdict.UNSCANNED),
            finding("--index-url=http://evil", "1.0"),
            finding("odd", "not a version"),
        ]
    )
    assert lines == ["alpha==1.0.0", "Zeta_Pkg==2.0"]


def test_merge_matches_canonical_name_and_version_and_fails_the_report() -> None:
    rep = report(
        finding("Old_Templates", "2.10.0"),  # 2.10.0 == 2.10
        finding("old-templates", "2.11"),  # another version: not affected
        finding("fine-pkg", "1.0"),
        finding("private-pkg", "3.0"),
    )
    merged = merge(rep, parse(AUDIT_JSON))
    by = {(f.name, f.version): f for f in merged.findings}
    assert [v.id for v in by[("Old_Templates", "2.10.0")].vulnerabilities] == [
        "PYSEC-0000-1",
        "GHSA-aaaa-bbbb-cccc",
    ]
    assert by[("old-templates", "2.11")].vulnerabilities == ()
    assert by[("fine-pkg", "1.0")].vulnerabilities == ()
    assert by[("private-pkg", "3.0")].notes == (
        "not audited for vulnerabilities: Dependency not found on PyPI",
    )
    assert merged.verdict is Verdict.FAIL
    # The malware verdict of the package itself is untouched.
    assert by[("Old_Templates", "2.10.0")].verdict is Verdict.PASS


def test_merge_without_vulnerabilities_keeps_the_verdict() -> None:
    rep = report(finding("fine-pkg", "1.0"))
    assert merge(rep, parse(AUDIT_JSON)).verdict is Verdict.PASS
    failing = Report(Verdict.FAIL, 0.5, "t", rep.findings)
    assert merge(failing, AuditResult({}, {})).verdict is Verdict.FAIL


def test_allowlisted_vulnerable_package_does_not_fail() -> None:
    rep = report(finding("old-templates", "2.10", allowed_by="old-templates==2.10: no fix yet"))
    merged = merge(rep, parse(AUDIT_JSON))
    assert merged.findings[0].vulnerabilities
    assert merged.verdict is Verdict.PASS


def test_audit_runs_pip_audit_in_its_no_code_mode_on_the_pins() -> None:
    fake = FakeAudit()
    rep = report(finding("old-templates", "2.10"), finding("fine-pkg", "1.0"))
    merged = audit(rep, runner=fake, command=["pip-audit"])
    assert fake.pins == ["fine-pkg==1.0", "old-templates==2.10"]
    assert fake.argv[0] == "pip-audit"
    for flag in ("--disable-pip", "--no-deps"):
        assert flag in fake.argv
    assert fake.argv[fake.argv.index("--format") + 1] == "json"
    assert merged.verdict is Verdict.FAIL


def test_exit_zero_report_is_accepted() -> None:
    no_vulns = json.dumps({"dependencies": [{"name": "x", "version": "1", "vulns": []}]})
    result = query(["x==1"], runner=FakeAudit(stdout=no_vulns, code=0), command=["pa"])
    assert result.vulnerabilities == {("x", Version("1")): ()}


def test_nothing_to_audit_does_not_run_pip_audit() -> None:
    fake = FakeAudit()
    assert query([], runner=fake, command=["pa"]) == AuditResult({}, {})
    assert fake.argv == []


@pytest.mark.parametrize(
    ("stdout", "code", "stderr"),
    [
        ("", 1, "Traceback ...\nConnectionError: pypi.org unreachable\n"),
        ("", 2, "usage: pip-audit ...\npip-audit: error: bad flag\n"),
        (AUDIT_JSON, 2, "something odd"),
    ],
)
def test_pip_audit_failure_is_one_line_infra_error(stdout: str, code: int, stderr: str) -> None:
    with pytest.raises(InfraError, match="pip-audit failed") as info:
        query(["x==1"], runner=FakeAudit(stdout=stdout, code=code, stderr=stderr), command=["pa"])
    assert "\n" not in str(info.value)
    assert stderr.strip().splitlines()[-1] in str(info.value)


def test_missing_pip_audit_executable_is_infra_error() -> None:
    with pytest.raises(InfraError, match="pip-audit is not installed"):
        query(["x==1"], command=["/nonexistent/pip-audit"])


def test_argv_defaults_to_this_interpreters_module() -> None:
    argv = audit_argv(Path("/tmp/r.txt"))
    assert argv[1:3] == ["-m", "pip_audit"] or argv[0].endswith("pip-audit")
    assert argv[argv.index("-r") + 1] == "/tmp/r.txt"


@pytest.mark.network
def test_real_pip_audit_finds_a_known_vulnerable_pin() -> None:
    rep = report(finding("jinja2", "2.10"))
    result = query(pinned_lines(rep.findings))
    if "jinja2" in result.skipped:
        pytest.skip(f"this network cannot reach PyPI's per-version API: {result.skipped['jinja2']}")
    merged = merge(rep, result)
    ids = {v.id for v in merged.findings[0].vulnerabilities}
    aliases = {a for v in merged.findings[0].vulnerabilities for a in v.aliases}
    assert "CVE-2019-10906" in ids | aliases  # sandbox escape fixed in 2.10.1
    assert merged.verdict is Verdict.FAIL
