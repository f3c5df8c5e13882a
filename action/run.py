"""Run `mphunter-gate check` with the action's inputs, and set its outputs.

Inputs arrive as INPUT_* environment variables (never interpolated into a
shell line, so a crafted input cannot inject commands). An empty input adds
no flag, so the tool's own defaults (and the project's
[tool.mphunter-gate]) apply. The tool, run with `--github`, writes the
annotations, the job summary and the verdict outputs itself; this script
only fills the outputs when the tool stopped before it could (bad input,
index down), so `verdict` is never left empty. Stdlib only.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _outputs import set_outputs

_TRUE = {"true", "1", "yes", "on"}


def _flag(environ: Mapping[str, str], name: str) -> bool:
    return environ.get(name, "").strip().lower() in _TRUE


def sarif_path(environ: Mapping[str, str]) -> str:
    temp = environ.get("RUNNER_TEMP") or environ.get("TMPDIR") or "/tmp"
    return str(Path(temp) / "mphunter-gate.sarif")


def build_argv(environ: Mapping[str, str]) -> list[str]:
    """The `mphunter-gate check ...` command line for these inputs."""
    argv = [environ.get("MPHUNTER_GATE_BIN") or "mphunter-gate", "check"]
    argv += shlex.split(environ.get("INPUT_FILES", ""), posix=True)
    if _flag(environ, "INPUT_SARIF"):
        argv += ["--format", "sarif", "--output", sarif_path(environ)]
    else:
        argv += ["--format", "text"]
    argv.append("--github")
    for env_name, option in (
        ("INPUT_THRESHOLD", "--threshold"),
        ("INPUT_INDEX_URL", "--index-url"),
        ("INPUT_CHANGED_SINCE", "--changed-since"),
        ("INPUT_CONFIG", "--config"),
        ("INPUT_TARGET_PYTHON", "--python-version"),
    ):
        value = environ.get(env_name, "").strip()
        if value:
            argv += [option, value]
    for url in environ.get("INPUT_EXTRA_INDEX_URL", "").split():
        argv += ["--extra-index-url", url]
    if _flag(environ, "INPUT_ALLOW_UNSCANNED"):
        argv.append("--allow-unscanned")
    return argv


def child_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The tool's environment: no job summary when the input turns it off."""
    env = dict(environ)
    if not _flag(environ, "INPUT_JOB_SUMMARY"):
        env.pop("GITHUB_STEP_SUMMARY", None)
    return env


def _outputs_written_since(path: str | None, offset: int) -> bool:
    if not path or not os.path.exists(path):
        return False
    with open(path, encoding="utf-8", errors="replace") as fh:
        fh.seek(offset)
        return any(line.startswith("verdict=") for line in fh.read().splitlines())


def main(environ: Mapping[str, str] | None = None) -> int:
    env = dict(os.environ if environ is None else environ)
    cache = env.get("MPHUNTER_GATE_CACHE")
    if cache:
        Path(cache).mkdir(parents=True, exist_ok=True)
    output_path = env.get("GITHUB_OUTPUT")
    offset = os.path.getsize(output_path) if output_path and os.path.exists(output_path) else 0
    argv = build_argv(env)
    sys.stdout.write("mphunter-gate: " + shlex.join(argv[1:]) + "\n")
    sys.stdout.flush()
    try:
        code = subprocess.run(argv, env=child_environment(env), check=False).returncode
    except OSError as exc:
        sys.stdout.write(f"::error title=mphunter-gate::could not run {argv[0]}: {exc}\n")
        code = 3
    extra: dict[str, str] = {}
    sarif = sarif_path(env) if _flag(env, "INPUT_SARIF") else ""
    extra["sarif-file"] = sarif if sarif and os.path.isfile(sarif) else ""
    if not _outputs_written_since(output_path, offset):
        extra.update({"verdict": "error", "failed-count": "0"})
    set_outputs(extra, env)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
