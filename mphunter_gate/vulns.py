"""`--audit-vulns`: known vulnerabilities of the resolved set, in the same report.

A malicious package and a vulnerable one both block a merge, so reviewers
get one report and one exit code. The facts come from pip-audit (the
optional `audit` extra), run on the exact pins the gate resolved, in the
one mode that runs no package code: `-r FILE --disable-pip --no-deps`
with `name==version` lines. In its default mode pip-audit builds sdists in
a temporary virtualenv, i.e. runs their setup.py (pip-audit #180, #181),
which is the very thing this gate exists to prevent.

pip-audit is queried through an injectable runner so parsing and merging
are unit-tested without it. When it cannot run or answers nonsense
(missing, network down) that is an infrastructure problem (exit 3), never a
silent "no vulnerabilities".
"""

from __future__ import annotations

import importlib.util
import json
import logging
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from mphunter_gate.errors import InfraError
from mphunter_gate.types import Finding, Report, Verdict, Vulnerability

log = logging.getLogger(__name__)

#: Runs an argv and returns the finished process with text stdout/stderr.
Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]

AUDIT_TIMEOUT = 600  # seconds: one PyPI JSON request per package, sequential
_NAME = re.compile(r"^([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9])$")
_INSTALL_HINT = "pip-audit is not installed (pip install 'mphunter-gate[audit]')"


#: (canonical name, version); a Version compares `2.10` equal to `2.10.0`.
Key = tuple[str, Version | str]


@dataclass(frozen=True)
class AuditResult:
    """pip-audit's answer: vulnerabilities and skip reasons by (canonical name, version)."""

    vulnerabilities: Mapping[Key, tuple[Vulnerability, ...]]
    skipped: Mapping[str, str]  # canonical name -> why pip-audit did not audit it


def _key(name: str, version: str) -> Key:
    try:
        return canonicalize_name(name), Version(version)
    except InvalidVersion:
        return canonicalize_name(name), version


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(str(v) for v in value if isinstance(v, str | int | float))


def parse(text: str) -> AuditResult:
    """pip-audit's `--format json` output; InfraError if it is not that."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InfraError(f"pip-audit printed no JSON report ({exc.msg})") from None
    deps = doc.get("dependencies") if isinstance(doc, dict) else None
    if not isinstance(deps, list):
        raise InfraError("pip-audit's report has no 'dependencies' list")
    found: dict[Key, tuple[Vulnerability, ...]] = {}
    skipped: dict[str, str] = {}
    for dep in deps:
        if not isinstance(dep, dict) or not isinstance(dep.get("name"), str):
            raise InfraError("pip-audit's report has a dependency without a name")
        if "skip_reason" in dep:
            skipped[canonicalize_name(dep["name"])] = str(dep["skip_reason"])
            continue
        vulns = []
        for v in dep.get("vulns") or []:
            if not isinstance(v, dict) or not isinstance(v.get("id"), str):
                raise InfraError(f"pip-audit's report has a malformed entry for {dep['name']}")
            vulns.append(
                Vulnerability(
                    id=v["id"],
                    description=str(v.get("description") or ""),
                    aliases=_strings(v.get("aliases")),
                    fix_versions=_strings(v.get("fix_versions")),
                )
            )
        found[_key(dep["name"], str(dep.get("version", "")))] = tuple(vulns)
    return AuditResult(found, skipped)


def pinned_lines(findings: Iterable[Finding]) -> list[str]:
    """`name==version` for every resolved release, once each, sorted.

    Findings without a version (URLs, local paths) are not releases and are
    left out; so is anything that is not a plain project name, since a
    requirements line starting with `-` would be an option to pip-audit.
    """
    lines: dict[str, str] = {}
    for f in findings:
        if not f.version:
            continue
        if not _NAME.match(f.name):
            log.warning("not auditing %r: not a valid project name", f.name)
            continue
        try:
            version = str(Version(f.version))
        except InvalidVersion:
            log.warning("not auditing %s %r: not a PEP 440 version", f.name, f.version)
            continue
        lines.setdefault(f"{canonicalize_name(f.name)}=={version}", f"{f.name}=={version}")
    return [lines[k] for k in sorted(lines)]


def merge(report: Report, result: AuditResult) -> Report:
    """`report` with each finding's vulnerabilities filled in, and the verdict failed
    if any finding has one that no allowlist entry covers."""
    findings = []
    for f in report.findings:
        if f.version:
            key = _key(f.name, f.version)
            vulns = result.vulnerabilities.get(key, ())
            if vulns:
                f = replace(f, vulnerabilities=f.vulnerabilities + vulns)
            skip = result.skipped.get(key[0])
            if skip and key not in result.vulnerabilities:
                f = replace(f, notes=(*f.notes, f"not audited for vulnerabilities: {skip}"))
        findings.append(f)
    vulnerable = any(f.vulnerabilities and f.allowed_by is None for f in findings)
    return replace(
        report,
        findings=tuple(findings),
        verdict=Verdict.FAIL if vulnerable else report.verdict,
    )


def pip_audit_command() -> list[str]:
    """How to start pip-audit: this interpreter's module, else one on PATH."""
    if importlib.util.find_spec("pip_audit") is not None:
        return [sys.executable, "-m", "pip_audit"]
    exe = shutil.which("pip-audit")
    if exe is None:
        raise InfraError(_INSTALL_HINT)
    return [exe]


def audit_argv(requirements_file: Path, command: Sequence[str] | None = None) -> list[str]:
    """The pip-audit argv that reads pins only and never builds or runs a package."""
    return [
        *(command or pip_audit_command()),
        "-r",
        str(requirements_file),
        "--disable-pip",
        "--no-deps",
        "--format",
        "json",
        "--desc",
        "on",
        "--aliases",
        "on",
        "--progress-spinner",
        "off",
    ]


def run_pip_audit(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """The real runner."""
    log.info("running %s", " ".join(argv))
    try:
        return subprocess.run(
            list(argv), capture_output=True, text=True, timeout=AUDIT_TIMEOUT, check=False
        )
    except FileNotFoundError:
        raise InfraError(_INSTALL_HINT) from None
    except subprocess.TimeoutExpired:
        raise InfraError(f"pip-audit did not finish within {AUDIT_TIMEOUT}s") from None
    except OSError as exc:
        raise InfraError(f"cannot run pip-audit: {exc.strerror or exc}") from None


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1][:300] if lines else "no error message"


def query(
    lines: Sequence[str],
    runner: Runner = run_pip_audit,
    command: Sequence[str] | None = None,
) -> AuditResult:
    """Ask pip-audit about `name==version` lines (exit 1 with a report means "found some").

    `command` starts pip-audit (default: `pip_audit_command()`).
    """
    if not lines:
        return AuditResult({}, {})
    with tempfile.TemporaryDirectory(prefix="mphunter-gate-audit-") as tmp:
        path = Path(tmp) / "requirements.txt"
        path.write_text("\n".join(lines) + "\n")
        argv = audit_argv(path, command)
        done = runner(argv)
    if done.returncode not in (0, 1):
        raise InfraError(f"pip-audit failed (exit {done.returncode}): {_last_line(done.stderr)}")
    try:
        return parse(done.stdout)
    except InfraError:
        if done.returncode != 0:  # a fatal error, not a vulnerability report
            raise InfraError(f"pip-audit failed: {_last_line(done.stderr)}") from None
        raise


def audit(
    report: Report,
    runner: Runner = run_pip_audit,
    command: Sequence[str] | None = None,
) -> Report:
    """Run pip-audit on the report's resolved pins and merge what it finds."""
    return merge(report, query(pinned_lines(report.findings), runner, command))
