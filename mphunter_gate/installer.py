"""The pip command line for `mphunter-gate install`: exactly what was scanned.

A gate that checks one set of files and then lets pip pick another has
checked nothing. So after a passing check the wrapper installs with
`--require-hashes` (pip refuses any file whose sha256 is not one the gate
scanned) and `--no-deps` (pip adds nothing the gate did not resolve and
scan). pip only accepts hashes in a requirements file, so this module
builds that file's text and the argv that points at it; both are pure
functions of their inputs and are unit-tested. Names, versions and hashes
come from the index and are validated strictly here, because a "name" that
starts with `--` inside a requirements file is an option to pip.

Known limit: installing an sdist builds it, and pip's build isolation
fetches the build backend (setuptools, ...) from the index unscanned;
`no_build_isolation=True` builds in the target environment instead.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from mphunter_gate.errors import InputError

_NAME = re.compile(r"^([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9])$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_URL = re.compile(r"^(https?|file)://[^\s]+$")


@dataclass(frozen=True)
class Pin:
    """One scanned file: the release it belongs to and its sha256."""

    name: str
    version: str
    sha256: str


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _validate(pin: Pin) -> Pin:
    from packaging.version import InvalidVersion, Version

    if not _NAME.match(pin.name):
        raise InputError(f"refusing to install {pin.name!r}: not a valid project name")
    try:
        Version(pin.version)
    except InvalidVersion:
        raise InputError(
            f"refusing to install {pin.name} {pin.version!r}: not a PEP 440 version"
        ) from None
    sha = pin.sha256.lower().removeprefix("sha256:")
    if not _SHA256.match(sha):
        raise InputError(f"refusing to install {pin.name}=={pin.version}: no valid sha256")
    return Pin(pin.name, pin.version, sha)


def requirements_text(pins: Iterable[Pin | tuple[str, str, str]]) -> str:
    """A hash-pinned requirements file: one line per release, every scanned hash.

    Several files of one release (an sdist and a wheel) become one line
    with several `--hash` options. Two different versions of one project
    cannot both be installed, so that is an error rather than a guess.
    """
    by_name: dict[str, tuple[str, str, list[str]]] = {}
    for raw in pins:
        pin = _validate(raw if isinstance(raw, Pin) else Pin(*raw))
        key = _canonical(pin.name)
        name, version, hashes = by_name.setdefault(key, (pin.name, pin.version, []))
        if version != pin.version:
            raise InputError(f"conflicting pins for {name}: {version} and {pin.version}")
        if pin.sha256 not in hashes:
            hashes.append(pin.sha256)
    if not by_name:
        raise InputError("nothing to install: no scanned distributions")
    lines = []
    for key in sorted(by_name):
        name, version, hashes = by_name[key]
        options = " ".join(f"--hash=sha256:{h}" for h in sorted(hashes))
        lines.append(f"{name}=={version} {options}")
    return "\n".join(lines) + "\n"


def pip_install_argv(
    requirements_file: Path,
    *,
    python: str | None = None,
    index_url: str | None = None,
    extra_index_urls: Sequence[str] = (),
    no_build_isolation: bool = False,
    pip_args: Sequence[str] = (),
) -> list[str]:
    """The argv that installs exactly the pinned, hashed files listed in `requirements_file`.

    `pip_args` are passed through (e.g. `--target`, `--user`) but may not
    weaken the guarantees: options that re-enable dependencies or change
    where requirements come from are refused.
    """
    forbidden = {"--deps", "-r", "--requirement", "-e", "--editable", "-c", "--constraint"}
    for arg in pip_args:
        if arg.split("=", 1)[0] in forbidden or not arg.startswith("-"):
            raise InputError(f"pip option {arg!r} is not allowed after a gate check")
    argv = [python or sys.executable, "-m", "pip", "install", "--require-hashes", "--no-deps"]
    if no_build_isolation:
        argv.append("--no-build-isolation")
    for url in ([index_url] if index_url else []) + list(extra_index_urls):
        if not _URL.match(url):
            raise InputError(f"not an index URL: {url!r}")
    if index_url:
        argv += ["--index-url", index_url]
    for url in extra_index_urls:
        argv += ["--extra-index-url", url]
    argv += list(pip_args)
    argv += ["-r", str(requirements_file)]
    return argv
