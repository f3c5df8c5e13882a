"""SARIF 2.1.0, for GitHub code scanning and every other SARIF viewer.

One rule per kind of finding (a malicious-looking install script, a
dependency that could not be scanned, a known vulnerability), each result
located on the manifest line that pulled the package in. The
`partialFingerprints` hash only (package, version, sdist sha256, rule), never
a line number or a score, so a dismissal in code scanning survives re-runs
and model updates until the artifact itself changes. Allowlisted packages are
still reported, with an external suppression carrying the allowlist reason,
so the audit trail lives where the alerts do.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

from mphunter_gate import __version__
from mphunter_gate.report.base import Formatter
from mphunter_gate.report.explain import (
    RULE_ADVISORY,
    RULE_LOOKALIKE,
    RULE_MALICIOUS,
    RULE_RELEASE_AGE,
    RULE_UNSCANNED,
    RULE_VULNERABLE,
    RULE_YANKED,
    advisory_line,
    analysis_stage,
    clean,
    explain,
    fmt_score,
    scan_rule,
)
from mphunter_gate.types import Finding, HitLevel, PolicyHit, Report, Verdict, Vulnerability

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "mphunterGate/v1"

_RULES: tuple[dict[str, Any], ...] = (
    {
        "id": RULE_MALICIOUS,
        "name": "MaliciousInstallScript",
        "short": "Install-time script looks malicious",
        "full": (
            "The package's install-time scripts (setup.py, __init__.py, .pth files) are far "
            "from every cluster of benign install scripts and/or close to known malicious "
            "ones, scoring at or above the gate's calibrated threshold. Installing it would "
            "run that code."
        ),
        "help": (
            "Review the listed files and lines (the API calls behind the score and any "
            "decoded payloads). If the package is safe, allow this exact release in "
            "pyproject.toml under [tool.mphunter-gate] with a reason; otherwise remove it."
        ),
        "level": "error",
        "severity": "9.0",
        "tags": ["security", "supply-chain", "malware"],
    },
    {
        "id": RULE_UNSCANNED,
        "name": "UnscannedDependency",
        "short": "Dependency could not be scanned",
        "full": (
            "The gate could not fetch or analyse this dependency (no file on the index, an "
            "unreadable archive, a URL or path requirement). It fails closed: the package "
            "was not shown to be safe."
        ),
        "help": (
            "Pin the dependency to a release on the index, or allow it explicitly in "
            "pyproject.toml under [tool.mphunter-gate] with a reason, or run with "
            "--allow-unscanned."
        ),
        "level": "warning",
        "severity": "5.0",
        "tags": ["security", "supply-chain"],
    },
    {
        "id": RULE_VULNERABLE,
        "name": "KnownVulnerability",
        "short": "Dependency has a known vulnerability",
        "full": "A vulnerability database lists this pinned release as affected.",
        "help": "Upgrade to a fixed version, or allow the release with a reason.",
        "level": "error",
        "severity": "7.0",
        "tags": ["security", "vulnerability"],
    },
    {
        "id": RULE_ADVISORY,
        "name": "KnownMalware",
        "short": "Release is listed as malware by an advisory",
        "full": (
            "An OSV malware record (OpenSSF malicious-packages, MAL-...) lists this release. "
            "It fails whatever its score."
        ),
        "help": (
            "Remove the dependency. If the advisory is wrong for you, allow it only by naming "
            'the advisory id (advisory = "MAL-...") in an allow entry with a reason.'
        ),
        "level": "error",
        "severity": "10.0",
        "tags": ["security", "supply-chain", "malware"],
    },
    {
        "id": RULE_RELEASE_AGE,
        "name": "ReleaseTooNew",
        "short": "Release is younger than the minimum release age",
        "full": (
            "The judged file was uploaded more recently than min-release-age allows, or the "
            "index gives no upload time. Most malicious releases are removed within days."
        ),
        "help": (
            "Pin an older release (the message names the newest one the policy accepts), wait, "
            'or exempt the package with rule = "release-age" in an allow entry.'
        ),
        "level": "error",
        "severity": "6.0",
        "tags": ["security", "supply-chain"],
    },
    {
        "id": RULE_YANKED,
        "name": "YankedRelease",
        "short": "Release was yanked from the index",
        "full": (
            "The maintainers withdrew this release (PEP 592). pip installs it only when it is "
            "pinned with == or ===."
        ),
        "help": "Move to a release that is not yanked, or pin it exactly if you need it.",
        "level": "warning",
        "severity": "5.0",
        "tags": ["security", "supply-chain"],
    },
    {
        "id": RULE_LOOKALIKE,
        "name": "LookalikeName",
        "short": "Dependency name resembles a far more downloaded project",
        "full": (
            "The name is one edit, a separator, a homoglyph or a reordering away from one of "
            "the most downloaded projects, which typosquats imitate."
        ),
        "help": (
            "Check that this is the project you meant. If it is, exempt it with "
            'rule = "lookalike-name" in an allow entry.'
        ),
        "level": "warning",
        "severity": "4.0",
        "tags": ["security", "supply-chain", "typosquatting"],
    },
)
_RULE_INDEX = {rule["id"]: i for i, rule in enumerate(_RULES)}


def _rule_object(rule: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": rule["id"],
        "name": rule["name"],
        "shortDescription": {"text": rule["short"]},
        "fullDescription": {"text": rule["full"]},
        "help": {"text": rule["help"], "markdown": rule["help"]},
        "defaultConfiguration": {"level": rule["level"]},
        "properties": {
            "security-severity": rule["severity"],
            "tags": rule["tags"],
            "precision": "medium",
        },
    }


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def fingerprint(finding: Finding, rule: str, extra: str = "") -> str:
    """Stable identity of a result: package, version, sdist sha256, rule."""
    parts = [_canonical(finding.name), finding.version, finding.sha256 or "", rule, extra]
    key = "\x1f".join(parts)
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def _uri(path: str) -> str:
    """A relative URI reference for a path (GitHub resolves it against the repo root)."""
    p = Path(path)
    if p.is_absolute():
        try:
            path = p.resolve().relative_to(Path.cwd().resolve()).as_posix()
        except ValueError:
            return p.resolve().as_uri()
    return quote(clean(path).replace("\\", "/"), safe="/@:+,;=-._~")


def _location(finding: Finding) -> dict[str, Any]:
    if finding.origin is not None:
        return {
            "physicalLocation": {
                "artifactLocation": {"uri": _uri(finding.origin.file)},
                "region": {"startLine": max(finding.origin.line, 1)},
            }
        }
    return {"physicalLocation": {"artifactLocation": {"uri": _uri(finding.source)}}}


def _message(finding: Finding) -> str:
    ex = explain(finding)
    lines = [
        f"{clean(finding.name)} {clean(finding.version)}: {clean(finding.reason, 300)}",
    ]
    if ex.worst is not None:
        w = ex.worst
        lines.append(
            f"{clean(w.path)}: score {fmt_score(w.score)}, outlierness {fmt_score(w.outlierness)}"
        )
        if w.nearest_malicious:
            lines.append(
                f"Nearest known-malicious sample: {clean(w.nearest_malicious, 120)} "
                f"(distance {fmt_score(w.malicious_distance)})"
            )
    if ex.evidence:
        calls = "; ".join(f"{clean(c.file)}:{c.line} {clean(c.api)}" for c in ex.evidence)
        lines.append(f"Evidence: {calls}")
    lines += [
        f"Decoded {clean(d.method)} payload at {clean(d.file)}:{d.line}: {clean(d.preview, 120)}"
        for d in ex.decoded
    ]
    lines += [f"Note: {clean(n, 300)}" for n in finding.notes]
    lines.append(f"To allow: add {ex.allow} to allow = [...] under [tool.mphunter-gate]")
    return "\n".join(lines)


def _properties(finding: Finding, severity: str) -> dict[str, Any]:
    props: dict[str, Any] = {
        "package": finding.name,
        "version": finding.version,
        "sha256": finding.sha256,
        "verdict": finding.verdict.value,
        "security-severity": severity,
    }
    if finding.score is not None:
        props["score"] = finding.score
    if finding.files:
        props["files"] = [
            {
                "filename": j.filename,
                "sha256": j.sha256,
                "installsOn": list(j.installs_on),
                "verdict": j.verdict.value,
            }
            for j in finding.files
        ]
    ex = explain(finding)
    if ex.worst is not None:
        stage = analysis_stage(finding, ex.worst.path)
        if stage is not None:
            props["stage"] = stage.value
        props["outlierness"] = ex.worst.outlierness
        props["nearestMalicious"] = ex.worst.nearest_malicious
        props["maliciousDistance"] = ex.worst.malicious_distance
    return props


def _suppressions(finding: Finding) -> list[dict[str, Any]]:
    if finding.allowed_by is None:
        return []
    return [
        {
            "kind": "external",
            "status": "accepted",
            "justification": clean(finding.allowed_by, 1000),
        }
    ]


def _result(finding: Finding, rule_id: str) -> dict[str, Any]:
    rule = _RULES[_RULE_INDEX[rule_id]]
    result: dict[str, Any] = {
        "ruleId": rule_id,
        "ruleIndex": _RULE_INDEX[rule_id],
        "level": rule["level"],
        "message": {"text": _message(finding)},
        "locations": [_location(finding)],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(finding, rule_id)},
        "properties": _properties(finding, rule["severity"]),
    }
    suppressions = _suppressions(finding)
    if suppressions:
        result["suppressions"] = suppressions
    return result


def _vuln_result(finding: Finding, vuln: Vulnerability) -> dict[str, Any]:
    rule = _RULES[_RULE_INDEX[RULE_VULNERABLE]]
    fix = f" Fixed in: {', '.join(vuln.fix_versions)}." if vuln.fix_versions else ""
    text = (
        f"{clean(finding.name)} {clean(finding.version)} is affected by {clean(vuln.id)}"
        f"{' (' + ', '.join(clean(a) for a in vuln.aliases) + ')' if vuln.aliases else ''}: "
        f"{clean(vuln.description, 500)}{fix}"
    )
    return {
        "ruleId": RULE_VULNERABLE,
        "ruleIndex": _RULE_INDEX[RULE_VULNERABLE],
        "level": rule["level"],
        "message": {"text": text},
        "locations": [_location(finding)],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(finding, RULE_VULNERABLE, vuln.id)},
        "properties": {
            "package": finding.name,
            "version": finding.version,
            "vulnerability": vuln.id,
            "security-severity": rule["severity"],
        },
    }


_HIT_LEVEL = {HitLevel.FAIL: "error", HitLevel.UNSCANNED: "warning", HitLevel.WARNING: "warning"}


def _hit_result(finding: Finding, hit: PolicyHit) -> dict[str, Any]:
    """One result per policy hit, under its own rule."""
    rule = _RULES[_RULE_INDEX[hit.rule]]
    ex = explain(finding)
    text = f"{clean(finding.name)} {clean(finding.version)}: {clean(hit.message, 500)}"
    if hit.blocks:
        text += f"\nTo allow: add {ex.allow} to allow = [...] under [tool.mphunter-gate]"
    result: dict[str, Any] = {
        "ruleId": hit.rule,
        "ruleIndex": _RULE_INDEX[hit.rule],
        "level": _HIT_LEVEL[hit.level],
        "message": {"text": text},
        "locations": [_location(finding)],
        "partialFingerprints": {
            FINGERPRINT_KEY: fingerprint(finding, hit.rule, hit.advisory or "")
        },
        "properties": {
            "package": finding.name,
            "version": finding.version,
            "sha256": finding.sha256,
            "verdict": finding.verdict.value,
            "policyLevel": hit.level.value,
            "security-severity": rule["severity"],
            **({"advisory": hit.advisory} if hit.advisory else {}),
        },
    }
    if hit.allowed_by is not None:
        result["suppressions"] = [
            {"kind": "external", "status": "accepted", "justification": clean(hit.allowed_by, 1000)}
        ]
    return result


def _scan_view(finding: Finding) -> Finding:
    """The row as the scan alone judged it (policy hits have results of their own)."""
    if finding.scan is None:
        return finding
    return replace(
        finding,
        verdict=finding.scan.verdict,
        reason=finding.scan.reason,
        allowed_by=finding.scan.allowed_by,
        policy=(),
        scan=None,
    )


def sarif_document(report: Report) -> dict[str, Any]:
    """The SARIF log as plain JSON-able data."""
    results = []
    for finding in report.findings:
        view = _scan_view(finding)
        rule_id = scan_rule(view)
        if rule_id is not None:
            results.append(_result(view, rule_id))
        results += [_hit_result(finding, h) for h in finding.policy]
        results += [_vuln_result(finding, v) for v in finding.vulnerabilities]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "mphunter-gate",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": [_rule_object(rule) for rule in _RULES],
                    }
                },
                "results": results,
                "columnKind": "unicodeCodePoints",
                "properties": {
                    "verdict": report.verdict.value,
                    "threshold": report.threshold,
                    "modelVersion": report.model_version,
                    "packages": len(report.findings),
                    "failed": sum(f.verdict is Verdict.FAIL for f in report.findings),
                    **_advisory_properties(report),
                },
            }
        ],
    }


def _advisory_properties(report: Report) -> dict[str, Any]:
    data = report.advisories
    if data is None:
        return {}
    return {
        "advisories": {
            "source": data.source,
            "records": data.records,
            "asOf": data.as_of,
            "ageDays": data.age_days,
            "stale": data.stale,
            "summary": advisory_line(data),
        }
    }


class SarifFormatter(Formatter):
    """`--format sarif`."""

    name = "sarif"

    def format(self, report: Report) -> str:
        return json.dumps(sarif_document(report), indent=2) + "\n"
