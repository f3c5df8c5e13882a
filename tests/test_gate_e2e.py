"""End to end: `check` against a real local index, and `scan` on local archives.

The CLI runs in a subprocess exactly as a user would run it, against the
bundled models. Fixture packages are served by pypiserver on 127.0.0.1.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import LocalIndex, make_sdist, make_wheel, run_gate
from tests.fixtures import BENIGN_SETUP, MALICIOUS_SETUP, canary_setup

pytestmark = pytest.mark.integration


def _serve_fixtures(index: LocalIndex, marker: Path) -> None:
    index.add_sdist("tidy-widgets", "1.2.0", BENIGN_SETUP, files={"README.md": "# tidy\n"})
    index.add_sdist("tidy-widgetz", "9.9.9", MALICIOUS_SETUP)
    index.add_sdist("canary-pkg", "0.1.0", canary_setup(str(marker)))
    index.add_wheel("attrs", "23.1.0", {"attrs/__init__.py": "__version__ = '23.1.0'\n"})
    index.add_wheel("wheel-only-pkg", "1.0", {"wheel_only_pkg/__init__.py": "X = 1\n"})


def _check(index: LocalIndex, env: dict[str, str], reqs: Path, *extra: str):  # type: ignore[no-untyped-def]
    return run_gate(["check", str(reqs), "--index-url", index.url, *extra], env)


def test_check_passes_benign_and_fails_malicious(
    local_index: LocalIndex, gate_env: dict[str, str], tmp_path: Path
) -> None:
    marker = tmp_path / "canary-ran"
    _serve_fixtures(local_index, marker)

    good = tmp_path / "requirements.txt"
    good.write_text("tidy-widgets==1.2.0\nwheel-only-pkg==1.0\ncanary-pkg==0.1.0\n")
    res = _check(local_index, gate_env, good, "--format", "json")
    assert res.returncode == 0, res.stdout + res.stderr
    doc = json.loads(res.stdout)
    assert doc["verdict"] == "pass"
    rows = {r["name"]: r for r in doc["results"]}
    assert set(rows) >= {"tidy-widgets", "canary-pkg", "wheel-only-pkg", "attrs"}
    assert rows["tidy-widgets"]["verdict"] == "pass"
    assert rows["tidy-widgets"]["score"] < doc["threshold"]
    assert rows["wheel-only-pkg"]["artifacts"][0]["filename"].endswith(".whl")

    bad = tmp_path / "bad-requirements.txt"
    bad.write_text("tidy-widgets==1.2.0\n\ntidy-widgetz==9.9.9\n")
    res = _check(local_index, gate_env, bad, "--format", "json")
    assert res.returncode == 1, res.stdout + res.stderr
    doc = json.loads(res.stdout)
    assert doc["verdict"] == "fail"
    rows = {r["name"]: r for r in doc["results"]}
    assert rows["tidy-widgetz"]["verdict"] == "fail"
    assert rows["tidy-widgetz"]["score"] >= doc["threshold"]
    assert rows["tidy-widgetz"]["origin"] == {"file": str(bad), "line": 3}
    assert rows["tidy-widgets"]["verdict"] == "pass"

    text = _check(local_index, gate_env, bad)
    assert text.returncode == 1
    assert "tidy-widgetz" in text.stdout and "fail" in text.stdout

    assert not marker.exists(), "the gate executed a package's setup.py"


def test_check_exit_codes(
    local_index: LocalIndex, gate_env: dict[str, str], tmp_path: Path
) -> None:
    local_index.add_sdist("tidy-widgets", "1.2.0", BENIGN_SETUP)
    broken = tmp_path / "requirements.txt"
    broken.write_text("tidy-widgets==1.2.0\nthis is not ++ a requirement\n")
    res = _check(local_index, gate_env, broken)
    assert res.returncode == 2
    assert f"{broken}:2" in res.stderr
    assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1

    missing = tmp_path / "missing.txt"
    missing.write_text("no-such-package-anywhere==1.0\n")
    res = _check(local_index, gate_env, missing, "--format", "json")
    assert res.returncode == 1
    doc = json.loads(res.stdout)
    assert doc["results"][0]["verdict"] == "unscanned"
    res = _check(local_index, gate_env, missing, "--allow-unscanned")
    assert res.returncode == 0

    ok = tmp_path / "ok.txt"
    ok.write_text("tidy-widgets==1.2.0\n")
    res = run_gate(["check", str(ok), "--index-url", "http://127.0.0.1:9/simple"], gate_env)
    assert res.returncode == 3, res.stdout + res.stderr
    assert "Traceback" not in res.stderr
    # One line: urllib3's per-retry warnings are not the user's business without -v.
    assert res.stderr.strip().count("\n") == 0 and "cannot reach index" in res.stderr


def test_scan_local_archives(gate_env: dict[str, str], tmp_path: Path) -> None:
    good = make_sdist(tmp_path, "tidy-widgets", "1.2.0", {"setup.py": BENIGN_SETUP})
    bad = make_sdist(tmp_path, "tidy-widgetz", "9.9.9", {"setup.py": MALICIOUS_SETUP})
    wheel = make_wheel(tmp_path, "plain", "1.0", {"plain/__init__.py": "VALUE = 2\n"})
    folder = tmp_path / "unpacked"
    (folder / "pkg").mkdir(parents=True)
    (folder / "setup.py").write_text(MALICIOUS_SETUP)
    corrupt = tmp_path / "corrupt-1.0.tar.gz"
    corrupt.write_bytes(b"\x1f\x8b\x08\x00garbage")

    res = run_gate(
        ["scan", str(good), str(bad), str(wheel), str(folder), str(corrupt), "--format", "json"],
        gate_env,
    )
    assert res.returncode == 1, res.stderr
    doc = json.loads(res.stdout)
    by_source = {r["source"]: r for r in doc["results"]}
    assert by_source[str(good)]["verdict"] == "pass"
    assert by_source[str(bad)]["verdict"] == "fail"
    assert by_source[str(folder)]["verdict"] == "fail"
    assert by_source[str(corrupt)]["verdict"] == "unscanned"
    assert by_source[str(wheel)]["verdict"] == "pass"
    assert doc["schema_version"] and doc["model_version"]
    assert any(f["path"].endswith("setup.py") for f in by_source[str(bad)]["files"])

    res = run_gate(["scan", str(good)], gate_env)
    assert res.returncode == 0, res.stdout + res.stderr


def test_scan_missing_path_is_input_error(gate_env: dict[str, str], tmp_path: Path) -> None:
    res = run_gate(["scan", str(tmp_path / "nope.tar.gz")], gate_env)
    assert res.returncode == 2
    assert "nope.tar.gz" in res.stderr and "Traceback" not in res.stderr


def _release_with_wheel(index: LocalIndex, version: str, pth: str | None) -> tuple[Path, Path]:
    """A clean sdist and a wheel of the same release; the wheel carries `pth` if given."""
    package = {"tidy_widgets/__init__.py": "VALUE = 1\n"}
    sdist = index.add_sdist("tidy-widgets", version, BENIGN_SETUP, files=dict(package))
    wheel_files = dict(package)
    if pth is not None:
        wheel_files["tidy_widgets-init.pth"] = pth
    return sdist, index.add_wheel("tidy-widgets", version, wheel_files)


def test_a_poisoned_wheel_fails_though_its_sdist_is_clean(
    local_index: LocalIndex, gate_env: dict[str, str], tmp_path: Path
) -> None:
    """pip installs the wheel, so the wheel is judged (and the sdist as well)."""
    import hashlib

    from tests.fixtures import PTH_INJECTOR

    sdist, wheel = _release_with_wheel(local_index, "1.2.0", PTH_INJECTOR)
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("tidy-widgets==1.2.0\n")
    res = _check(local_index, gate_env, reqs, "--format", "json")
    assert res.returncode == 1, res.stdout + res.stderr
    [row] = [r for r in json.loads(res.stdout)["results"] if r["name"] == "tidy-widgets"]
    assert row["verdict"] == "fail"
    assert row["reason"].startswith(wheel.name)
    files = {f["filename"]: f for f in row["artifacts"]}
    assert files[wheel.name]["sha256"] == hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert files[wheel.name]["verdict"] == "fail" and files[wheel.name]["installs_on"]
    assert files[sdist.name]["verdict"] == "pass" and files[sdist.name]["installs_on"] == []

    site = tmp_path / "site"
    inst = run_gate(
        ["install", str(reqs), "--index-url", local_index.url, f"--pip-arg=--target={site}"],
        gate_env,
    )
    assert inst.returncode == 1, inst.stdout + inst.stderr
    assert not site.exists()


def test_the_clean_twin_passes_and_installs_its_judged_wheel(
    local_index: LocalIndex, gate_env: dict[str, str], tmp_path: Path
) -> None:
    import hashlib

    _, wheel = _release_with_wheel(local_index, "1.2.1", None)
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("tidy-widgets==1.2.1\n")
    res = _check(local_index, gate_env, reqs, "--format", "json")
    assert res.returncode == 0, res.stdout + res.stderr
    [row] = json.loads(res.stdout)["results"]
    assert row["sha256"] == hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert row["source"] == wheel.name

    site = tmp_path / "site"
    inst = run_gate(
        [
            "install",
            str(reqs),
            "--index-url",
            local_index.url,
            f"--pip-arg=--target={site}",
            "--pip-arg=--quiet",
        ],
        gate_env,
    )
    assert inst.returncode == 0, inst.stdout + inst.stderr
    assert (site / "tidy_widgets" / "__init__.py").read_text() == "VALUE = 1\n"
    assert list(site.glob("tidy_widgets-1.2.1.dist-info"))  # the wheel, not a build


def test_an_sdist_that_pip_builds_brings_its_build_requirements_under_judgement(
    local_index: LocalIndex, gate_env: dict[str, str], tmp_path: Path
) -> None:
    """pip's isolated build installs [build-system] requires first: judged like any dep."""
    pyproject = '[build-system]\nrequires = ["tidy-widgetz>=9"]\nbuild-backend = "x"\n'
    local_index.add_sdist("needs-builder", "1.0", BENIGN_SETUP, files={"pyproject.toml": pyproject})
    local_index.add_sdist("tidy-widgetz", "9.9.9", MALICIOUS_SETUP)
    local_index.add_wheel("attrs", "23.1.0", {"attrs/__init__.py": "__version__ = '23.1.0'\n"})
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("needs-builder==1.0\n")
    res = _check(local_index, gate_env, reqs, "--format", "json")
    assert res.returncode == 1, res.stdout + res.stderr
    rows = {r["name"]: r for r in json.loads(res.stdout)["results"]}
    assert rows["needs-builder"]["verdict"] == "pass", rows["needs-builder"]["reason"]
    assert rows["tidy-widgetz"]["verdict"] == "fail"
    assert "build dependency of needs-builder==1.0" in rows["tidy-widgetz"]["notes"]
    assert rows["tidy-widgetz"]["origin"] == {"file": str(reqs), "line": 1}


def test_an_editable_local_project_brings_its_requirements_under_judgement(
    local_index: LocalIndex, gate_env: dict[str, str], tmp_path: Path
) -> None:
    """`-e .` is the user's own code: a row that says so, and its requirements judged;
    a malicious one fails the build."""
    marker = tmp_path / "canary-ran"
    _serve_fixtures(local_index, marker)
    project = tmp_path / "app"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[project]\nname = "my-app"\nversion = "0.1"\ndependencies = ["tidy-widgets==1.2.0"]\n'
        '[project.optional-dependencies]\nbad = ["tidy-widgetz==9.9.9"]\n'
    )
    reqs = project / "requirements.txt"
    reqs.write_text("-e .\n")
    res = _check(local_index, gate_env, reqs, "--format", "json")
    assert res.returncode == 0, res.stdout + res.stderr
    rows = {r["name"]: r for r in json.loads(res.stdout)["results"]}
    assert rows["my-app"]["verdict"] == "pass" and "local project" in rows["my-app"]["reason"]
    assert rows["tidy-widgets"]["verdict"] == "pass" and "tidy-widgetz" not in rows
    reqs.write_text("-e .[bad]\n")
    res = _check(local_index, gate_env, reqs, "--format", "json")
    assert res.returncode == 1, res.stdout + res.stderr
    rows = {r["name"]: r for r in json.loads(res.stdout)["results"]}
    assert rows["tidy-widgetz"]["verdict"] == "fail"
    assert rows["tidy-widgetz"]["origin"] == {"file": str(reqs), "line": 1}
    assert not marker.exists()
