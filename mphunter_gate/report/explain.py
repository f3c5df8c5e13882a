"""Why a package failed, in terms a reviewer can check by opening a file.

An outlier score alone is noise to someone who has never heard of GLOSH.
Every format therefore shows the same explanation for a failing package:
the API calls behind the score (the sensitive ones first, at `file:line`),
the payloads decoded from string constants, the nearest known-malicious
sample and its distance, the outlierness, and the one line of config that
would allow the package. This module computes that explanation once so the
formats cannot disagree, and holds the rules (severity order, sanitising of
attacker-controlled text) that all of them share.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from importlib import resources

from mphunter_gate.config import is_project_name
from mphunter_gate.types import (
    AdvisoryData,
    ApiCall,
    Decoded,
    Finding,
    HitLevel,
    Indicator,
    Report,
    ScriptScore,
    Stage,
    Verdict,
)

#: SARIF rule ids, also used as the kind of finding in every other format.
RULE_MALICIOUS = "malicious-install-script"
RULE_UNSCANNED = "unscanned-dependency"
RULE_VULNERABLE = "known-vulnerability"
#: Policy rules (`mphunter_gate/policy/`): what is known before analysis.
RULE_ADVISORY = "known-malware"
RULE_RELEASE_AGE = "release-age"
RULE_YANKED = "yanked-release"
RULE_LOOKALIKE = "lookalike-name"
POLICY_RULES = (RULE_ADVISORY, RULE_RELEASE_AGE, RULE_YANKED, RULE_LOOKALIKE)

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def clean(text: object, limit: int | None = None) -> str:
    """`text` with control and bidi characters removed, on one line, bounded.

    Everything that came out of an sdist (names, versions, decoded payloads,
    file names) is attacker-controlled: it must not move a terminal cursor,
    forge a workflow command with a newline, or reorder text with bidi marks.
    """
    out = str(text).replace("\r\n", " ").replace("\n", " ").replace("\r", " ").replace("\t", " ")
    out = _CONTROL.sub("", out)
    if limit is not None and len(out) > limit:
        out = out[: max(limit - 1, 0)] + "…"
    return out


@functools.cache
def sensitive_prefixes() -> tuple[str, ...]:
    """The reviewed list of API prefixes shown first (data/sensitive_apis.txt)."""
    text = resources.files("mphunter_gate").joinpath("data/sensitive_apis.txt").read_text("utf-8")
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return tuple(line for line in lines if line)


def is_sensitive(api: str, prefixes: tuple[str, ...] | None = None) -> bool:
    """Whether `api` is, or lives under, one of the sensitive prefixes."""
    if prefixes is None:
        return _is_sensitive_default(api)
    names = [api]
    if api.startswith("builtins."):
        names.append(api[len("builtins.") :])
    for prefix in prefixes:
        for name in names:
            if name == prefix or name.startswith(prefix + "."):
                return True
    return False


@functools.lru_cache(maxsize=100_000)
def _is_sensitive_default(api: str) -> bool:
    """Memoised: a report asks this for every call site of every package."""
    return is_sensitive(api, sensitive_prefixes())


@dataclass(frozen=True)
class Explanation:
    """What the formats print under a package that did not plainly pass.

    `evidence` is ordered most suspicious first; `worst` is the script with
    the highest score (its nearest malicious sample and outlierness are the
    ones quoted). `allow` is a TOML inline table for `allow = [...]`.
    """

    evidence: tuple[ApiCall, ...]
    decoded: tuple[Decoded, ...]
    worst: ScriptScore | None
    parse_problems: tuple[str, ...]
    allow: str
    indicators: tuple[Indicator, ...] = ()


def toml_string(value: str) -> str:
    """A TOML basic string (JSON's escaping is a subset TOML accepts)."""
    return json.dumps(clean(value), ensure_ascii=False)


def allow_snippet(finding: Finding) -> str:
    """One line that allows exactly this release (and, if known, this file), in a form
    the config accepts as printed: a dependency not from an index (a URL, a VCS
    reference, a local path) is named by `url`, as the dependency file writes it.

    A release an advisory lists is allowed only by naming the advisory; a release
    that fails one policy rule alone (too new, yanked) by an exemption from that rule,
    which leaves its files judged."""
    reason = 'reason = "<why this is safe, and who reviewed it>"'
    blocking = [h for h in finding.policy if h.blocks]
    scan_blocks = finding.scan is not None and (
        finding.scan.verdict is not Verdict.PASS and finding.scan.allowed_by is None
    )
    advisory = next((h.advisory for h in blocking if h.rule == RULE_ADVISORY), None)
    if advisory is not None:
        package = f"{finding.name}=={finding.version}"
        return (
            "{ "
            + f"package = {toml_string(package)}, advisory = {toml_string(advisory)}, {reason}"
            + " }"
        )
    rules = {h.rule for h in blocking}
    if len(rules) == 1 and not scan_blocks and is_project_name(finding.name):
        rule = rules.pop()
        package = finding.name if rule == RULE_RELEASE_AGE else f"{finding.name}=={finding.version}"
        return (
            "{ " + f"package = {toml_string(package)}, rule = {toml_string(rule)}, {reason}" + " }"
        )
    if not finding.version and not is_project_name(finding.name):
        reason = 'reason = "<why this is safe, and who reviewed it>"'
        return "{ " + f"url = {toml_string(finding.name.strip())}, {reason}" + " }"
    package = f"{finding.name}=={finding.version}" if finding.version else finding.name
    parts = [f"package = {toml_string(package)}"]
    flagged = {j.sha256 for j in finding.files if j.verdict is not Verdict.PASS}
    sha = flagged.pop() if len(flagged) == 1 else None if flagged else finding.sha256
    if sha:  # the failing file; several failing files: the release alone names them all
        parts.append(f"sha256 = {toml_string(sha)}")
    parts.append('reason = "<why this is safe, and who reviewed it>"')
    return "{ " + ", ".join(parts) + " }"


def worst_score(finding: Finding) -> ScriptScore | None:
    """The script that drove the package's score."""
    if not finding.scores:
        return None
    return max(finding.scores, key=lambda s: s.score)


def ranked_calls(finding: Finding) -> tuple[ApiCall, ...]:
    """Every distinct call site, most suspicious first.

    Sensitive APIs come first; within each group calls from higher-scoring
    scripts come first, then by file and line so the order is stable.
    """
    by_path = {s.path: s.score for s in finding.scores}
    calls: dict[tuple[str, str, int], tuple[ApiCall, float]] = {}
    for analysis in finding.analyses:
        script_score = by_path.get(analysis.path, 0.0)
        for call in analysis.calls:
            calls.setdefault((call.api, call.file, call.line), (call, script_score))
    prefixes = sensitive_prefixes()
    ordered = sorted(
        calls.values(),
        key=lambda cs: (
            not is_sensitive(cs[0].api, prefixes),
            -cs[1],
            cs[0].file,
            cs[0].line,
            cs[0].api,
        ),
    )
    return tuple(call for call, _ in ordered)


def explain(finding: Finding, *, max_evidence: int = 8, max_decoded: int = 5) -> Explanation:
    """The explanation every format shows for `finding`."""
    decoded = tuple(d for a in finding.analyses for d in a.decoded)
    problems = tuple(
        f"{a.path}: {a.parse.value}" + (f" ({a.error})" if a.error else "")
        for a in finding.analyses
        if a.parse.value not in ("ast", "known")
    ) + tuple(
        f"{a.path}: analysis cut at a size cap or work budget; scored on what it reached"
        for a in finding.analyses
        if a.truncated
    )
    return Explanation(
        evidence=ranked_calls(finding)[:max_evidence],
        decoded=decoded[:max_decoded],
        worst=worst_score(finding),
        parse_problems=problems,
        allow=allow_snippet(finding),
        indicators=tuple(i for a in finding.analyses for i in a.indicators)[:max_evidence],
    )


def needs_explanation(finding: Finding) -> bool:
    """Whether a reviewer must look at this package (or know why it was let through)."""
    return (
        finding.verdict is not Verdict.PASS
        or finding.allowed_by is not None
        or bool(finding.vulnerabilities)
        or bool(finding.notes)
        or bool(finding.policy)
    )


def rule_of(finding: Finding) -> str | None:
    """The kind of finding for the package's gate verdict (None: it passed clean):
    the first policy hit that blocks it, else the scan's."""
    blocking = next((h.rule for h in finding.policy if h.blocks), None)
    if blocking is not None:
        return blocking
    if finding.scan is not None:
        return scan_rule(finding)
    if finding.verdict is Verdict.FAIL:
        return RULE_MALICIOUS
    if finding.verdict is Verdict.UNSCANNED:
        return RULE_UNSCANNED
    if finding.allowed_by is not None:
        # Allowed, but the reviewer should still see what was allowed.
        return RULE_UNSCANNED if finding.score is None else RULE_MALICIOUS
    return None


def scan_rule(finding: Finding) -> str | None:
    """The kind of finding for the scan's own verdict (None: the scan passed clean)."""
    scan = finding.scan
    if scan is None:
        return rule_of(finding)
    if scan.verdict is Verdict.FAIL:
        return RULE_MALICIOUS
    if scan.verdict is Verdict.UNSCANNED:
        return RULE_UNSCANNED
    if scan.allowed_by is not None:
        return RULE_UNSCANNED if finding.score is None else RULE_MALICIOUS
    return None


def policy_lines(finding: Finding) -> list[str]:
    """One plain line per policy hit (each format cleans or escapes it)."""
    lines = []
    for h in finding.policy:
        level = "warning" if h.level is HitLevel.WARNING else h.level.value
        allowed = f" (allowed: {h.allowed_by})" if h.allowed_by else ""
        lines.append(f"{level} [{h.rule}]: {h.message}{allowed}")
    return lines


def advisory_line(data: AdvisoryData) -> str:
    """What the report says about its advisory data, and a warning when it is stale."""
    when = f"as of {data.as_of} ({data.basis})" if data.as_of else "of unknown date"
    age = f", {data.age_days:.1f} days old" if data.age_days is not None else ""
    line = f"Malware advisories: {data.records} PyPI records from {data.source}, {when}{age}"
    if data.stale:
        line += (
            f". WARNING: older than {data.stale_after_days:g} days or of unknown age; "
            "run `mphunter-gate advisories update`"
        )
    return line


_ORDER = {Verdict.FAIL: 0, Verdict.UNSCANNED: 1, Verdict.PASS: 2}


def riskiest_first(findings: tuple[Finding, ...] | list[Finding]) -> list[Finding]:
    """Failing, then unscanned, then passing (noteworthy ones first); higher scores first."""
    return sorted(
        findings,
        key=lambda f: (
            _ORDER[f.verdict],
            not needs_explanation(f),
            -(f.score if f.score is not None else -1.0),
            f.name.lower(),
            f.version,
        ),
    )


#: The overall verdict of a report with no package in it: exit 4, never a pass.
NOTHING_SCANNED = "nothing-scanned"


def overall(report: Report) -> str:
    """The report's verdict as every format names it: `pass`, `fail`, or
    `nothing-scanned` when no package was checked (exit 4, which must not read as a
    pass in any format)."""
    return report.verdict.value if report.findings else NOTHING_SCANNED


def summary_counts(report: Report) -> dict[str, int]:
    """The counts every format's summary line shows."""
    findings = report.findings
    return {
        "total": len(findings),
        "pass": sum(f.verdict is Verdict.PASS for f in findings),
        "fail": sum(f.verdict is Verdict.FAIL for f in findings),
        "unscanned": sum(f.verdict is Verdict.UNSCANNED for f in findings),
        "allowed": sum(f.allowed_by is not None for f in findings),
        "vulnerabilities": sum(len(f.vulnerabilities) for f in findings),
    }


def fmt_score(value: float | None) -> str:
    """Scores and distances with three decimals; `-` for none."""
    return "-" if value is None else f"{value:.3f}"


def where(finding: Finding) -> str:
    """`requirements.txt:12`, or the source when no manifest line is known."""
    if finding.origin is not None:
        return f"{clean(finding.origin.file)}:{finding.origin.line}"
    return clean(finding.source)


def covered_files(finding: Finding) -> list[str]:
    """One line per file the verdict covers: filename, sha256, where pip installs it, verdict.

    Plain text, unescaped (each format cleans or escapes it): the report must
    say which bytes were judged, since a release's wheel and sdist differ.
    """
    lines = []
    for j in finding.files:
        where_ = f"installs on {', '.join(j.installs_on)}" if j.installs_on else "sdist, judged too"
        hashed = "" if j.index_hash else ", no hash from the index"
        lines.append(
            f"{j.filename} sha256:{j.sha256 or '-'} ({where_}{hashed}): {j.verdict.value}"
            + ("" if j.verdict is Verdict.PASS else f": {j.reason}")
        )
    return lines


def analysis_stage(finding: Finding, path: str) -> Stage | None:
    """The stage at which a file of the finding runs, if it was analysed."""
    return next((a.stage for a in finding.analyses if a.path == path), None)


def stage_of(finding: Finding, path: str) -> str:
    """` (import stage)` for a file of the finding, or '' when no stage is known."""
    stage = analysis_stage(finding, path)
    return f" ({stage.value} stage)" if stage is not None else ""
