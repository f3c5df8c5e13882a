"""Where dependencies come from: one module per input format, chosen by file name.

`source_for` is the one factory; `discover` is what `check` reads when the
user names no file. Lock files are preferred over pyproject.toml when both
exist, since they say exactly what is installed; requirements files are
always read, because projects keep extra ones (docs, dev) beside a lock.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path

from mphunter_gate.errors import InputError
from mphunter_gate.sources.base import DependencySource
from mphunter_gate.sources.pipfilelock import PipfileLockSource
from mphunter_gate.sources.poetrylock import PoetryLockSource
from mphunter_gate.sources.pylock import PylockSource
from mphunter_gate.sources.pyproject import PyprojectSource
from mphunter_gate.sources.requirements import RequirementsSource
from mphunter_gate.sources.uvlock import UvLockSource

__all__ = ["DependencySource", "discover", "source_for"]

#: (file-name pattern, source class), first match wins; matched case-insensitively.
_PATTERNS: tuple[tuple[str, type[DependencySource]], ...] = (
    ("pyproject.toml", PyprojectSource),
    ("uv.lock", UvLockSource),
    ("poetry.lock", PoetryLockSource),
    ("pipfile.lock", PipfileLockSource),
    ("pylock.toml", PylockSource),
    ("pylock.*.toml", PylockSource),
    ("requirements*.txt", RequirementsSource),
    ("*requirements.txt", RequirementsSource),
    ("constraints*.txt", RequirementsSource),
    ("*constraints.txt", RequirementsSource),
    ("*.in", RequirementsSource),
)
_LOCKS = ("uv.lock", "poetry.lock", "Pipfile.lock", "pylock.toml")


def source_for(path: Path) -> DependencySource:
    """The reader for `path`, chosen by its file name.

    Any other `.txt` file the user names (`web-django.txt`,
    `requirements/dev.txt`) is read as a requirements file, as `pip install -r`
    would. Anything else is an InputError naming it.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(
            "is a directory; name a dependency file in it, or run `check` there", file=str(path)
        )
    name = path.name.lower()
    for pattern, cls in _PATTERNS:
        if fnmatch.fnmatchcase(name, pattern):
            return cls(path)
    if name.endswith(".txt"):
        return RequirementsSource(path)
    raise InputError(
        "unknown dependency file type (expected requirements*.txt, *.in, constraints*.txt, "
        "pyproject.toml, uv.lock, poetry.lock, Pipfile.lock or pylock*.toml)",
        file=str(path),
    )


def discover(directory: Path) -> list[Path]:
    """The dependency files `check` reads in `directory` when none is named.

    Lock files if any (else pyproject.toml), plus every requirements file
    (`requirements*.txt`, `requirements/*.txt`, and `.in` files that have no
    compiled `.txt` beside them). Constraints files are only read through
    `-c`, since on their own they install nothing.
    """
    directory = Path(directory)
    found: list[Path] = []
    locks = [directory / n for n in _LOCKS if (directory / n).is_file()]
    locks += sorted(p for p in directory.glob("pylock.*.toml") if p.is_file())
    found.extend(locks)
    if not locks and (directory / "pyproject.toml").is_file():
        found.append(directory / "pyproject.toml")
    reqs = sorted(p for p in directory.glob("*requirements*.txt") if p.is_file())
    sub = directory / "requirements"
    if sub.is_dir():
        reqs += sorted(p for p in sub.glob("*.txt") if p.is_file())
    found.extend(reqs)
    for pin in sorted(
        [*directory.glob("*requirements*.in"), *(sub.glob("*.in") if sub.is_dir() else [])]
    ):
        if pin.is_file() and not pin.with_suffix(".txt").is_file():
            found.append(pin)
    return found
