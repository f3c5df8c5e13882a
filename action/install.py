"""Install mphunter-gate into its own virtualenv under $RUNNER_TEMP.

`plan` computes the venv path and a cache key (so actions/cache can restore
a ready venv); `install` creates the venv unless a restored one works, and
pip-installs the tool: this action's own checkout ($GITHUB_ACTION_PATH), or
`mphunter-gate==<version>` from PyPI when the `version` input is set. The
user's environment is never touched. Stdlib only.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _outputs import set_outputs

_VERSION = re.compile(r"^[0-9][0-9A-Za-z.+!-]*$")
# What decides the installed tool when installing from the checkout.
_SOURCE_GLOBS = ("pyproject.toml", "mphunter_gate/**/*", "models/manifest.json")


@dataclass(frozen=True)
class Plan:
    venv: Path
    python: Path
    bin: Path
    key: str
    pip_install: tuple[str, ...]


def _source_digest(action_path: Path) -> str:
    digest = hashlib.sha256()
    for pattern in _SOURCE_GLOBS:
        for path in sorted(action_path.glob(pattern)):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(path.relative_to(action_path).as_posix().encode())
                digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:24]


def plan(environ: Mapping[str, str], windows: bool | None = None) -> Plan:
    windows = os.name == "nt" if windows is None else windows
    temp = Path(environ.get("RUNNER_TEMP") or environ.get("TMPDIR") or "/tmp")
    action_path = Path(environ.get("GITHUB_ACTION_PATH") or Path(__file__).resolve().parent.parent)
    version = environ.get("INPUT_VERSION", "").strip()
    venv = temp / "mphunter-gate-venv"
    scripts = venv / ("Scripts" if windows else "bin")
    exe = ".exe" if windows else ""
    if version:
        if not _VERSION.match(version):
            raise SystemExit(f"::error title=mphunter-gate::invalid version input {version!r}")
        target = f"mphunter-gate=={version}"
        source = f"pypi-{version}"
    else:
        target = str(action_path)
        source = _source_digest(action_path)
    py = ".".join(platform.python_version_tuple()[:3])
    key = f"mphunter-gate-venv-v1-{platform.system()}-{platform.machine()}-py{py}-{source}"
    return Plan(
        venv=venv,
        python=scripts / f"python{exe}",
        bin=scripts / f"mphunter-gate{exe}",
        key=key,
        pip_install=("-m", "pip", "install", "--disable-pip-version-check", "--quiet", target),
    )


def _works(p: Plan) -> bool:
    if not p.bin.exists():
        return False
    result = subprocess.run([str(p.bin), "--version"], capture_output=True, check=False)
    return result.returncode == 0


def main(argv: list[str]) -> int:
    p = plan(os.environ)
    mode = argv[1] if len(argv) > 1 else "install"
    if mode == "plan":
        set_outputs({"venv": str(p.venv), "key": p.key})
        return 0
    if not _works(p):
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(p.venv)], check=True)
        subprocess.run([str(p.python), *p.pip_install], check=True)
    set_outputs({"bin": str(p.bin), "python": str(p.python)})
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
