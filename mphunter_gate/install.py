"""`mphunter-gate install`: check first, then let pip install exactly what was scanned.

The guarantee is "nothing unscanned is installed". After a passing check,
every release to install is pinned to the sha256 of the very file the gate
read (`Finding.sha256`), and pip runs with `--require-hashes --no-deps`
(see `installer.py` for why both). Anything the gate could not vouch for
blocks the whole install instead of being skipped, because a partial
install that silently lacks a package is its own surprise:

- a report whose verdict is not pass;
- a package that failed (and was not allowlisted);
- a package left unscanned, unless an allowlist entry accepted it: the
  `--allow-unscanned` flag lets a *check* pass, but it never lets an
  unscanned file be installed;
- a package without a sha256 (nothing was downloaded, or it is a URL or
  local path): pip could not be told which file is the scanned one.

"no install-time script" packages were read and hashed,
so they install like any other pass.

pip runs through an injectable runner so the policy is unit-tested without
pip; the real runner is a plain `subprocess.run` of the argv.
"""

from __future__ import annotations

import logging
import os
import subprocess
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from mphunter_gate.errors import GateError, InfraError
from mphunter_gate.installer import Pin, pip_install_argv, requirements_text
from mphunter_gate.types import Finding, Report, Verdict

log = logging.getLogger(__name__)

#: Runs an argv (with this environment, None: the gate's own) and returns its exit code.
Runner = Callable[[Sequence[str], Mapping[str, str] | None], int]


class InstallBlocked(GateError):
    """The check did not clear every package for installation; pip was not run.

    Exit code 1, like a failing check: the gate said no.
    """

    exit_code = 1


def _label(finding: Finding) -> str:
    return f"{finding.name}=={finding.version}" if finding.version else finding.name


def blockers(report: Report) -> list[str]:
    """Why this report must not be installed; empty when every package may be."""
    reasons: list[str] = []
    if not report.findings:
        reasons.append("nothing was scanned")
    elif report.verdict is not Verdict.PASS:
        reasons.append(f"the check's verdict is {report.verdict.value}")
    for f in report.findings:
        if f.verdict is Verdict.FAIL:
            reasons.append(f"{_label(f)} failed the check: {f.reason}")
        elif f.verdict is Verdict.UNSCANNED and f.allowed_by is None:
            reasons.append(f"{_label(f)} was not scanned: {f.reason}")
        elif not f.sha256:
            why = "allowlisted, but " if f.allowed_by else ""
            reasons.append(f"{_label(f)} is {why}without a scanned file's sha256: {f.reason}")
        elif not f.version:
            reasons.append(f"{_label(f)} has no pinned version")
    return reasons


def pins(report: Report) -> list[Pin]:
    """The (name, version, sha256) of every scanned file, or InstallBlocked saying why not."""
    found = blockers(report)
    if found:
        head = f"not installing: {len(found)} problem(s): "
        raise InstallBlocked(head + "; ".join(found).replace("\n", " "))
    return [Pin(f.name, f.version, f.sha256 or "") for f in report.findings if not f.build_for]


def build_constraints(report: Report) -> str:
    """`name==version` of every judged build dependency, for pip's isolated builds.

    pip builds an sdist in a fresh environment it fills from the index by the
    sdist's own `[build-system] requires`, which the main install's hashes do not
    reach; `PIP_CONSTRAINT` does (the build's pip inherits the environment), so
    the build gets the releases the gate judged (by version: a constraints file
    cannot carry hashes into a build environment).
    """
    return "".join(f"{f.name}=={f.version}\n" for f in report.findings if f.build_for)


def run_pip(argv: Sequence[str], env: Mapping[str, str] | None = None) -> int:
    """The real runner: pip in a child process, its output straight to the user."""
    log.info("running %s", " ".join(argv))
    try:
        return subprocess.run(list(argv), check=False, env=env).returncode
    except OSError as exc:
        raise InfraError(f"cannot run {argv[0]}: {exc.strerror or exc}") from exc


def install(
    report: Report,
    *,
    runner: Runner = run_pip,
    python: str | None = None,
    index_url: str | None = None,
    extra_index_urls: Sequence[str] = (),
    no_build_isolation: bool = False,
    pip_args: Sequence[str] = (),
    requirements_out: Path | None = None,
) -> int:
    """Install exactly the files a passing `report` scanned; pip's exit code.

    Raises InstallBlocked (pip not run) when anything in the report is not
    cleared; InputError for a hostile name/version/hash or a pip option that
    would weaken the guarantee. `requirements_out`, if given, keeps the
    hash-pinned requirements file there instead of a temporary one.
    """
    text = requirements_text(pins(report))
    with tempfile.TemporaryDirectory(prefix="mphunter-gate-install-") as tmp:
        path = requirements_out or Path(tmp) / "requirements.txt"
        try:
            path.write_text(text)
        except OSError as exc:
            raise InfraError(f"cannot write {path}: {exc.strerror or exc}") from exc
        argv = pip_install_argv(
            path,
            python=python,
            index_url=index_url,
            extra_index_urls=extra_index_urls,
            no_build_isolation=no_build_isolation,
            pip_args=pip_args,
        )
        constraints = build_constraints(report)
        env = None
        if constraints:
            cpath = Path(tmp) / "build-constraints.txt"
            cpath.write_text(constraints)
            env = {**os.environ, "PIP_CONSTRAINT": str(cpath)}
        code = runner(argv, env)
    if code != 0:
        log.warning("pip exited with %d", code)
    return code
