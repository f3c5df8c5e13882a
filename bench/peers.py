"""The peers we compare against, in their own virtual environments, and one
way to time any command.

Users will set mphunter-gate beside what they already run, so the harness
installs the peers exactly as users do (from PyPI, with pip) into venvs of
their own under a cache folder (default `bench/.venvs`, not committed):
nothing of theirs leaks into the gate's environment or the other way round.

Safety: the peers are only ever run in modes that do not execute package
code. `guarddog pypi verify|scan` downloads and scans statically (semgrep,
yara); `pip-audit -r FILE --disable-pip --no-deps` reads pinned names and
asks the vulnerability service, with no pip, no resolution and no build.
pip-audit without `--disable-pip` would build sdists in a temporary venv
(running their setup.py), so loose requirement files are reported as "n/a"
for pip-audit instead of being run.

Timing: every command runs as a child and is reaped with `os.wait4`, whose
rusage gives the peak resident set size of the largest single process in the
child's tree (Linux folds waited-for descendants into `ru_maxrss`), not the
sum of processes alive at once. A forked child starts with its parent's
high-water mark, so once the harness itself has grown (the scaling section
loads the corpus and the models in-process) every child would report at
least the harness's size. Where `/usr/bin/time` exists, the command is
started through it: `time` is small after its exec, so the grandchild it
forks starts clean, and its `%M` is the command's own peak.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

BENCH = Path(__file__).resolve().parent
DEFAULT_VENVS = BENCH / ".venvs"

#: What `pip install` gets for each peer: as users install them.
PEER_PACKAGES: dict[str, str] = {"guarddog": "guarddog", "pip-audit": "pip-audit"}


@dataclass(frozen=True)
class Measured:
    """One timed child process."""

    argv: tuple[str, ...]
    seconds: float
    peak_mib: float
    exit_code: int
    stdout: str
    stderr: str
    timed_out: bool = False

    def tail(self, n: int = 200) -> str:
        """The last words of stderr (or stdout), one line, for a failure note."""
        text = (self.stderr.strip() or self.stdout.strip()).replace("\n", " | ")
        return text[-n:]


#: `time` reports its child's own peak (see the module docstring).
TIME_WRAPPER: tuple[str, ...] = (
    ("/usr/bin/time", "-f", "PEAK_KIB=%M") if Path("/usr/bin/time").exists() else ()
)


def measure(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = 900.0,
    cwd: Path | None = None,
) -> Measured:
    """Run `argv` to completion; wall seconds, peak RSS (MiB) and outputs.

    Output goes to temporary files, not pipes, so a chatty child can never
    block on a full pipe while we wait on it. On timeout the child's whole
    process group is killed and the result says so.
    """
    peak_file = tempfile.NamedTemporaryFile("r", suffix=".peak", delete=False)  # noqa: SIM115
    peak_file.close()
    wrapped = [*TIME_WRAPPER, "-o", peak_file.name, *argv] if TIME_WRAPPER else list(argv)
    with tempfile.TemporaryFile("w+b") as out, tempfile.TemporaryFile("w+b") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            wrapped,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
        )
        fired = threading.Event()

        def kill() -> None:
            fired.set()
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                log.debug("process %d already gone at timeout", proc.pid)

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    peak_kib = float(usage.ru_maxrss)  # KiB on Linux
    try:
        found = re.search(r"PEAK_KIB=(\d+)", Path(peak_file.name).read_text())
        if found:
            peak_kib = float(found.group(1))
    finally:
        Path(peak_file.name).unlink(missing_ok=True)
    return Measured(
        argv=tuple(argv),
        seconds=seconds,
        peak_mib=peak_kib / 1024,
        exit_code=proc.returncode,
        stdout=stdout,
        stderr=stderr,
        timed_out=fired.is_set(),
    )


@dataclass(frozen=True)
class PeerEnv:
    """A peer installed in its own venv: where its executable is, which version."""

    name: str
    executable: Path
    version: str


def _venv_bin(venv: Path) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin")


def ensure_peer(name: str, root: Path = DEFAULT_VENVS) -> PeerEnv:
    """Create `root/name` and pip-install the peer there, unless already done.

    Raises RuntimeError with pip's last words when the install fails, so the
    caller can report the peer as unavailable and carry on.
    """
    venv = root / name
    exe = _venv_bin(venv) / name
    python = _venv_bin(venv) / "python"
    if not exe.exists():
        root.mkdir(parents=True, exist_ok=True)
        log.info("creating %s and installing %s (one-off)", venv, PEER_PACKAGES[name])
        steps = [
            [sys.executable, "-m", "venv", "--clear", str(venv)],
            [str(python), "-m", "pip", "install", "-q", "--upgrade", "pip"],
            [str(python), "-m", "pip", "install", "-q", PEER_PACKAGES[name]],
        ]
        for step in steps:
            done = subprocess.run(step, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"{' '.join(step[-2:])}: {done.stderr.strip()[-300:]}")
    shown = subprocess.run(
        [str(python), "-m", "pip", "show", PEER_PACKAGES[name]],
        capture_output=True,
        text=True,
        check=False,
    )
    match = re.search(r"^Version:\s*(\S+)", shown.stdout, re.M)
    return PeerEnv(name, exe, match.group(1) if match else "?")


_PIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[^\]]*\])?\s*===?\s*[^\s,;<>!~=*]+\s*(;.*)?$")


def requirement_lines(path: Path) -> list[str]:
    """The requirement lines of a requirements file (comments and blanks dropped)."""
    out = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


def pip_audit_applies(path: Path) -> str | None:
    """None if `pip-audit -r PATH --disable-pip --no-deps` applies, else why not.

    With `--disable-pip` pip-audit cannot resolve, so every line must be an
    exact pin; anything else would need pip, which builds sdists.
    """
    lines = requirement_lines(path)
    loose = [line for line in lines if not _PIN.match(line)]
    if not lines:
        return "no requirements"
    if loose:
        return (
            f"n/a: {len(loose)} of {len(lines)} requirements not pinned (e.g. `{loose[0]}`); "
            "resolving them needs pip, which builds sdists"
        )
    return None


def guarddog_verify_argv(peer: PeerEnv, requirements: Path) -> list[str]:
    """GuardDog's dependency-file mode: downloads each direct dependency and scans it."""
    return [str(peer.executable), "pypi", "verify", str(requirements), "--output-format", "json"]


def guarddog_scan_argv(peer: PeerEnv, target: Path) -> list[str]:
    """GuardDog on a local folder or archive (nothing downloaded, nothing run)."""
    return [str(peer.executable), "pypi", "scan", str(target), "--output-format", "json"]


def pip_audit_argv(peer: PeerEnv, requirements: Path) -> list[str]:
    return [
        str(peer.executable),
        "-r",
        str(requirements),
        "--disable-pip",
        "--no-deps",
        "--progress-spinner",
        "off",
        "--format",
        "json",
    ]


def gate_executable() -> Path:
    """The gate's console script next to this interpreter (not a pyenv shim,
    whose own start-up would be billed to the gate)."""
    candidate = Path(sys.executable).parent / "mphunter-gate"
    if candidate.exists():
        return candidate
    raise FileNotFoundError(f"{candidate}: mphunter-gate is not installed in this interpreter")
