"""The composite action: its definition, and its scripts run with GITHUB_* files.

The steps' scripts are run here the way the runner runs them: inputs as
INPUT_* variables, GITHUB_OUTPUT / GITHUB_STEP_SUMMARY pointing at temporary
files. The tool they call is a stand-in that publishes a hand-built report
through the real `mphunter_gate.report.github.publish`, so what lands in those
files is what the real tool writes.
"""

from __future__ import annotations

import importlib.util
import os
import re
import stat
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ACTION = ROOT / "action.yml"


def _module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"action_{name}", ROOT / "action" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


run_py = _module("run")
install_py = _module("install")


@pytest.fixture(scope="module")
def action() -> dict:
    return yaml.safe_load(ACTION.read_text())


# --- action.yml --------------------------------------------------------------


def test_composite_with_kebab_case_optional_inputs(action: dict) -> None:
    assert action["runs"]["using"] == "composite"
    for name, spec in action["inputs"].items():
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", name), name
        assert spec.get("required", False) is False and "default" in spec, name
    for name in ("files", "threshold", "index-url", "allow-unscanned", "python-version"):
        assert name in action["inputs"]
    for name in ("sarif", "job-summary", "changed-since", "version"):
        assert name in action["inputs"]
    # Empty defaults: the tool's config is the one source of defaults.
    assert action["inputs"]["threshold"]["default"] == ""


def test_the_gate_runs_on_the_newest_python_unless_the_user_chooses(action: dict) -> None:
    """The gate parses package code with its own interpreter's parser: on 3.11 a file in
    3.12 syntax falls back to the token pass. The user can choose another Python."""
    assert action["inputs"]["python-version"]["default"] == "3.13"
    setup = next(s for s in action["runs"]["steps"] if s.get("id") == "python")
    assert setup["uses"].startswith("actions/setup-python@")
    assert setup["with"]["python-version"] == "${{ inputs.python-version }}"
    assert setup["with"]["update-environment"] is False  # the user's Python is left alone
    # resolution follows the user's target-python, not the gate's own Python, when given
    assert action["inputs"]["target-python"]["default"] == ""


def test_outputs_come_from_the_gate_step(action: dict) -> None:
    outputs = action["outputs"]
    assert set(outputs) == {"verdict", "failed-count", "sarif-file"}
    for name, spec in outputs.items():
        assert spec["value"] == f"${{{{ steps.gate.outputs.{name} }}}}"


def test_every_run_step_sets_shell_and_never_interpolates(action: dict) -> None:
    steps = action["runs"]["steps"]
    run_steps = [s for s in steps if "run" in s]
    assert run_steps
    for step in run_steps:
        assert step.get("shell") == "bash", step["name"]
        assert "${{" not in step["run"], step["name"]  # inputs only through env:
        assert "$GITHUB_ACTION_PATH/action/" in step["run"]


def test_inputs_reach_the_gate_step_through_env(action: dict) -> None:
    gate = next(s for s in action["runs"]["steps"] if s.get("id") == "gate")
    env = gate["env"]
    used = set(re.findall(r'"(INPUT_[A-Z_]+)"', (ROOT / "action" / "run.py").read_text()))
    assert used and used <= set(env), used - set(env)
    for name, value in env.items():
        if name.startswith("INPUT_"):
            input_name = name[len("INPUT_") :].lower().replace("_", "-")
            assert value == f"${{{{ inputs.{input_name} }}}}"
    assert env["MPHUNTER_GATE_CACHE"].startswith("${{ runner.temp }}")


def test_third_party_actions_pinned_by_sha_with_version_comment() -> None:
    uses = re.findall(r"uses:\s*(\S+)(.*)", ACTION.read_text())
    assert len(uses) >= 4
    for ref, comment in uses:
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref), ref
        assert re.search(r"#\s*v\d", comment), ref


def test_caches_and_sarif_upload_survive_a_failing_gate(action: dict) -> None:
    steps = action["runs"]["steps"]
    names = [s.get("uses", "").split("@")[0] for s in steps]
    assert "actions/cache/restore" in names and "actions/cache/save" in names
    upload = next(s for s in steps if "upload-sarif" in s.get("uses", ""))
    assert "!cancelled()" in upload["if"]
    assert upload["with"]["sarif_file"] == "${{ steps.gate.outputs.sarif-file }}"
    save = [s for s in steps if s.get("uses", "").startswith("actions/cache/save")]
    gate_cache = next(s for s in save if "mphunter-gate-cache" in s["with"]["path"])
    assert "!cancelled()" in gate_cache["if"]


# --- action/run.py -----------------------------------------------------------


def test_argv_empty_inputs_add_no_flags(tmp_path: Path) -> None:
    argv = run_py.build_argv({"MPHUNTER_GATE_BIN": "/v/bin/mphunter-gate"})
    assert argv == ["/v/bin/mphunter-gate", "check", "--format", "text", "--github"]


def test_argv_all_inputs(tmp_path: Path) -> None:
    env = {
        "RUNNER_TEMP": str(tmp_path),
        "INPUT_FILES": "requirements.txt  'dev reqs.txt'\npyproject.toml",
        "INPUT_THRESHOLD": "0.7",
        "INPUT_INDEX_URL": "https://idx.example/simple",
        "INPUT_EXTRA_INDEX_URL": "https://a.example/simple https://b.example/simple",
        "INPUT_ALLOW_UNSCANNED": "true",
        "INPUT_CHANGED_SINCE": "origin/main",
        "INPUT_CONFIG": "config.ini",
        "INPUT_TARGET_PYTHON": "3.12",
        "INPUT_SARIF": "true",
    }
    argv = run_py.build_argv(env)
    assert argv[:5] == [
        "mphunter-gate",
        "check",
        "requirements.txt",
        "dev reqs.txt",
        "pyproject.toml",
    ]
    sarif = str(tmp_path / "mphunter-gate.sarif")
    assert argv[5:9] == ["--format", "sarif", "--output", sarif]
    joined = " ".join(argv)
    for expected in (
        "--github",
        "--threshold 0.7",
        "--index-url https://idx.example/simple",
        "--extra-index-url https://a.example/simple --extra-index-url https://b.example/simple",
        "--allow-unscanned",
        "--changed-since origin/main",
        "--config config.ini",
        "--python-version 3.12",
    ):
        assert expected in joined


def test_input_cannot_inject_a_command(tmp_path: Path) -> None:
    argv = run_py.build_argv({"INPUT_THRESHOLD": "0.5; touch pwned", "INPUT_FILES": "$(id)"})
    assert "0.5; touch pwned" in argv and "$(id)" in argv  # passed as data, never to a shell


FAKE_TOOL = """\
#!{python}
import json, os, sys
sys.path[:0] = {paths!r}
from tests.report.report_builders import failing_finding, make_report, passing_finding
from mphunter_gate.report.github import publish
from mphunter_gate.report.sarif import SarifFormatter

with open(os.environ["FAKE_ARGV_LOG"], "w") as fh:
    json.dump(sys.argv, fh)
mode = os.environ.get("FAKE_MODE", "fail")
if mode == "crash":
    print("mphunter-gate: requirements.txt:3: bad line", file=sys.stderr)
    sys.exit(2)
report = make_report(passing_finding(), failing_finding())
sarif = sys.argv[sys.argv.index("--output") + 1] if "--output" in sys.argv else None
if sarif:
    with open(sarif, "w") as fh:
        fh.write(SarifFormatter().format(report))
publish(report, sarif_file=sarif)
sys.exit(1)
"""


@pytest.fixture
def github_env(tmp_path: Path) -> dict[str, str]:
    tool = tmp_path / "bin" / "mphunter-gate"
    tool.parent.mkdir()
    paths = [str(ROOT / "tests" / "report"), str(ROOT)]
    tool.write_text(FAKE_TOOL.format(python=sys.executable, paths=paths))
    tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    for name in ("output", "summary"):
        (tmp_path / name).write_text("")
    return {
        **os.environ,
        "MPHUNTER_GATE_BIN": str(tool),
        "MPHUNTER_GATE_CACHE": str(tmp_path / "cache"),
        "RUNNER_TEMP": str(tmp_path),
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
        "GITHUB_WORKSPACE": str(tmp_path),
        "FAKE_ARGV_LOG": str(tmp_path / "argv.json"),
        "INPUT_FILES": "requirements.txt",
        "INPUT_SARIF": "true",
        "INPUT_JOB_SUMMARY": "true",
    }


def _run_step(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "action" / "run.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _outputs(path: Path) -> dict[str, str]:
    """Parse $GITHUB_OUTPUT as the runner does (later values win)."""
    values: dict[str, str] = {}
    lines = iter(path.read_text().splitlines())
    for line in lines:
        if "<<" in line and "=" not in line.split("<<")[0]:
            name, delimiter = line.split("<<", 1)
            body = []
            for inner in lines:
                if inner == delimiter:
                    break
                body.append(inner)
            values[name] = "\n".join(body)
        else:
            name, _, value = line.partition("=")
            values[name] = value
    return values


def test_gate_step_writes_annotations_summary_outputs_and_sarif(
    tmp_path: Path, github_env: dict[str, str]
) -> None:
    result = _run_step(github_env)
    assert result.returncode == 1  # the gate's verdict fails the step
    assert "::error file=requirements.txt,line=3," in result.stdout
    outputs = _outputs(tmp_path / "output")
    sarif = tmp_path / "mphunter-gate.sarif"
    assert outputs["verdict"] == "fail"
    assert outputs["failed-count"] == "1"
    assert outputs["sarif-file"] == str(sarif)
    assert sarif.is_file() and '"version": "2.1.0"' in sarif.read_text()
    summary = (tmp_path / "summary").read_text()
    assert summary.startswith("❌ **mphunter-gate: FAIL**")
    assert "| ❌ | evilpkg | 1.0.0 | 0.970 | FAIL |" in summary
    assert (tmp_path / "cache").is_dir()


def test_job_summary_off(tmp_path: Path, github_env: dict[str, str]) -> None:
    _run_step({**github_env, "INPUT_JOB_SUMMARY": "false", "INPUT_SARIF": "false"})
    assert (tmp_path / "summary").read_text() == ""
    outputs = _outputs(tmp_path / "output")
    assert outputs["sarif-file"] == "" and outputs["verdict"] == "fail"


def test_tool_that_stops_early_still_sets_verdict(
    tmp_path: Path, github_env: dict[str, str]
) -> None:
    result = _run_step({**github_env, "FAKE_MODE": "crash"})
    assert result.returncode == 2
    outputs = _outputs(tmp_path / "output")
    assert outputs == {"sarif-file": "", "verdict": "error", "failed-count": "0"}


def test_missing_tool_is_an_infrastructure_error(
    tmp_path: Path, github_env: dict[str, str]
) -> None:
    result = _run_step({**github_env, "MPHUNTER_GATE_BIN": str(tmp_path / "nope")})
    assert result.returncode == 3
    assert "::error title=mphunter-gate::could not run" in result.stdout
    assert _outputs(tmp_path / "output")["verdict"] == "error"


# --- action/install.py -------------------------------------------------------


def _fake_checkout(path: Path, code: str) -> Path:
    (path / "mphunter_gate").mkdir(parents=True)
    (path / "pyproject.toml").write_text('[project]\nname = "mphunter-gate"\n')
    (path / "mphunter_gate" / "__init__.py").write_text(code)
    return path


def test_install_plan_from_checkout_keys_on_its_source(tmp_path: Path) -> None:
    one = _fake_checkout(tmp_path / "one", "x = 1\n")
    two = _fake_checkout(tmp_path / "two", "x = 2\n")
    env = {"RUNNER_TEMP": str(tmp_path / "tmp")}
    p1 = install_py.plan({**env, "GITHUB_ACTION_PATH": str(one)}, windows=False)
    p1_again = install_py.plan({**env, "GITHUB_ACTION_PATH": str(one)}, windows=False)
    p2 = install_py.plan({**env, "GITHUB_ACTION_PATH": str(two)}, windows=False)
    assert p1.key == p1_again.key and p1.key != p2.key
    assert p1.venv == tmp_path / "tmp" / "mphunter-gate-venv"
    assert p1.bin == p1.venv / "bin" / "mphunter-gate"
    assert p1.pip_install[-1] == str(one)


def test_install_plan_from_pypi_version_and_windows_layout(tmp_path: Path) -> None:
    env = {"RUNNER_TEMP": str(tmp_path), "INPUT_VERSION": "1.2.3"}
    p = install_py.plan(env, windows=True)
    assert p.pip_install[-1] == "mphunter-gate==1.2.3"
    assert p.bin == tmp_path / "mphunter-gate-venv" / "Scripts" / "mphunter-gate.exe"
    assert "pypi-1.2.3" in p.key
    with pytest.raises(SystemExit):
        install_py.plan({**env, "INPUT_VERSION": "1.0 --index-url http://evil"})


def test_install_plan_step_writes_outputs(tmp_path: Path) -> None:
    out = tmp_path / "output"
    out.write_text("")
    env = {
        **os.environ,
        "RUNNER_TEMP": str(tmp_path),
        "GITHUB_OUTPUT": str(out),
        "GITHUB_ACTION_PATH": str(ROOT),
    }
    subprocess.run(
        [sys.executable, str(ROOT / "action" / "install.py"), "plan"], env=env, check=True
    )
    outputs = _outputs(out)
    assert outputs["venv"] == str(tmp_path / "mphunter-gate-venv")
    assert outputs["key"].startswith("mphunter-gate-venv-v1-")


def test_every_input_is_described(action: dict) -> None:
    for name, spec in action["inputs"].items():
        assert spec.get("description"), name


def test_readme_workflow_example_uses_real_inputs_and_outputs(action: dict) -> None:
    workflow = yaml.safe_load((Path(__file__).parent / "workflow_example.yml").read_text())
    job = workflow["jobs"]["mphunter-gate"]
    assert job["permissions"]["security-events"] == "write"
    gate = next(s for s in job["steps"] if s.get("id") == "gate")
    assert set(gate["with"]) <= set(action["inputs"])
    text = (Path(__file__).parent / "workflow_example.yml").read_text()
    for output in re.findall(r"steps\.gate\.outputs\.([\w-]+)", text):
        assert output in action["outputs"]
    for step in job["steps"]:
        if "run" in step:
            assert "${{" not in step["run"]
