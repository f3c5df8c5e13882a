"""Legitimate builds and packages must pass: the false-positive side of the gate.

The fixtures (tests/adversarial/legit.py) do what real projects do at build,
install and import time: compilers and build tools through subprocess, git for
the version, pinned downloads with a sha256 check, opt-out telemetry, tokens sent
to the project's own API, .pth start-up hooks. Each is scored by the bundled
models through `gate.scan`, as `check` scores a download, and must PASS; a failure
names the score, the reason and the behaviours that fired, so a retrain or a rule
change that starts flagging ordinary builds shows up here. A known payload is
scanned in the same run and must FAIL, so a harness that passes everything (files
not read, models not loaded) fails too. No fixture code ever runs.
"""

from __future__ import annotations

import ast
import ipaddress
import re
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from mphunter_gate import gate
from mphunter_gate.gate import GateOptions
from mphunter_gate.types import Finding, Verdict
from tests.adversarial.legit import BUILDS, PLACEHOLDER_DIST_INFO, Build, materialise_build
from tests.test_gate_stages import PAYLOAD

#: The same materialise/scan path with a payload in setup.py: it must fail.
CONTROL = Build(
    "legit-control-payload",
    "setup.py running a known exfiltrate-and-download payload (must FAIL)",
    "sdist",
    {"setup.py": "from setuptools import setup\n" + PAYLOAD + "setup(name='demo')\n"},
)

URL = re.compile(r"""\b[a-z][a-z0-9+.-]*://[^\s'"<>)\]]+""", re.IGNORECASE)
EXAMPLE_DOMAINS = ("example.com", "example.org", "example.net")
DOCUMENTATION_NETS = tuple(
    ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")
)


def _is_example_host(host: str) -> bool:
    """RFC 2606 example domains and RFC 5737 documentation addresses only."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return any(host == d or host.endswith("." + d) for d in EXAMPLE_DOMAINS)
    return any(address in net for net in DOCUMENTATION_NETS)


def _describe(finding: Finding) -> str:
    """Score, reason and each scored file's behaviours: what a failure must show."""
    files = "; ".join(
        f"{s.path} {s.score:.4f} [{', '.join(s.behaviours) or 'no behaviour'}]"
        for s in sorted(finding.scores, key=lambda s: -s.score)
    )
    return f"score {finding.score}, reason: {finding.reason}; files: {files or 'none scored'}"


# -- structure: no network, no models -------------------------------------------


def test_there_are_at_least_thirty_builds_with_unique_names() -> None:
    names = [b.name for b in BUILDS]
    assert len(names) >= 30
    assert len(set(names)) == len(names)
    # Wheels are named by their normalised distribution name: unique too.
    assert len({n.replace("-", "_").lower() for n in names}) == len(names)


@pytest.mark.parametrize("build", BUILDS, ids=lambda b: b.name)
def test_a_build_is_well_formed(build: Build) -> None:
    assert build.kind in ("wheel", "sdist")
    assert build.pattern.strip()
    assert build.files
    if build.kind == "sdist":
        assert "setup.py" in build.files or "pyproject.toml" in build.files


@pytest.mark.parametrize("build", BUILDS, ids=lambda b: b.name)
def test_every_python_file_parses(build: Build) -> None:
    """Parsed as text only (ast.parse never runs anything)."""
    for path, text in build.files.items():
        if path.endswith(".py"):
            ast.parse(text, filename=path)
        elif path.endswith(".pth"):
            # site.py executes only the lines that start with `import`.
            for line in text.splitlines():
                if line.startswith(("import ", "import\t")):
                    ast.parse(line, filename=path)


@pytest.mark.parametrize("build", BUILDS, ids=lambda b: b.name)
def test_urls_are_on_example_domains_or_documentation_ranges(build: Build) -> None:
    for path, text in build.files.items():
        for url in URL.findall(text):
            host = urlsplit(url).hostname or ""
            assert _is_example_host(host), f"{build.name}/{path}: {url}"


def test_the_url_check_rejects_real_hosts() -> None:
    assert _is_example_host("api.ledgerly.example.com")
    assert _is_example_host("203.0.113.7")
    assert not _is_example_host("pypi.org")
    assert not _is_example_host("example.com.evil.test")
    assert not _is_example_host("8.8.8.8")


def test_wheel_entry_points_land_in_the_real_dist_info(tmp_path: Path) -> None:
    with_eps = [b for b in BUILDS if f"{PLACEHOLDER_DIST_INFO}/entry_points.txt" in b.files]
    assert with_eps
    for build in with_eps:
        with zipfile.ZipFile(materialise_build(build, tmp_path)) as zf:
            names = zf.namelist()
        dist = build.name.replace("-", "_")
        assert f"{dist}-1.0.dist-info/entry_points.txt" in names
        assert not any(n.startswith(PLACEHOLDER_DIST_INFO) for n in names)


# -- the gate's verdicts (bundled models) ---------------------------------------


@pytest.fixture(scope="module")
def judged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Finding]:
    """Every build and the control scanned in one run (the models load once)."""
    root = tmp_path_factory.mktemp("legit")
    builds = (*BUILDS, CONTROL)
    paths = [str(materialise_build(b, root)) for b in builds]
    report = gate.scan(paths, GateOptions())
    return {b.name: f for b, f in zip(builds, report.findings, strict=True)}


@pytest.mark.parametrize("build", BUILDS, ids=lambda b: b.name)
def test_a_legitimate_build_passes(judged: dict[str, Finding], build: Build) -> None:
    finding = judged[build.name]
    # A pass only counts if the gate read every Python and .pth file of the build.
    prefix = f"{build.name}-1.0/" if build.kind == "sdist" else ""
    read = {a.path.removeprefix(prefix) for a in finding.analyses}
    wanted = {p for p in build.files if p.endswith((".py", ".pth"))}
    assert wanted <= read, f"{build.name}: not read: {sorted(wanted - read)} ({finding.reason})"
    assert finding.verdict is Verdict.PASS, f"{build.name} ({build.pattern}): {_describe(finding)}"


def test_the_control_payload_fails(judged: dict[str, Finding]) -> None:
    """The same materialise-and-scan path does fail a payload: the passes mean something."""
    finding = judged[CONTROL.name]
    assert finding.verdict is Verdict.FAIL, _describe(finding)
