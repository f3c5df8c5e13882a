"""The one interface every input format implements.

A dependency file is read into `Dependency` values (things to resolve or,
for lock files, already pinned) and `Unresolvable` values (things we can
name but never scan: URLs, local paths, editables). Adding a format is
adding one subclass in one module; nothing downstream changes.
"""

from __future__ import annotations

import json
import re
import sys
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on 3.10
    import tomli as tomllib

from packaging.version import InvalidVersion, Version

from mphunter_gate.errors import InputError
from mphunter_gate.types import Dependency, LocalProject, Origin, Unresolvable


class DependencySource(ABC):
    """One dependency file. `collect()` may be called more than once.

    `index_urls` / `extra_index_urls` are the package indexes the file itself
    names (a requirements file's `--index-url` lines, a lock file's private
    registries); they are filled in while `collect()` runs.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.index_urls: list[str] = []
        self.extra_index_urls: list[str] = []

    @abstractmethod
    def collect(self) -> Iterator[Dependency | Unresolvable | LocalProject]:
        """Every dependency the file declares, in file order."""

    def _read_text(self, path: Path | None = None) -> str:
        """The file's text, or an InputError naming it (never a traceback)."""
        target = path or self.path
        try:
            return target.read_text(encoding="utf-8-sig")
        except FileNotFoundError as exc:
            raise InputError("no such file", file=str(target)) from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read file ({exc})", file=str(target)) from exc

    def _load_toml(self, text: str) -> dict[str, Any]:
        """Parse TOML, turning a syntax error into a one-line InputError with its line."""
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            found = re.search(r"line (\d+)", str(exc))
            line = int(found.group(1)) if found else None
            raise InputError(f"invalid TOML: {exc}", file=str(self.path), line=line) from exc

    def _load_json(self, text: str) -> Any:
        """Parse JSON, turning a syntax error into a one-line InputError with its line."""
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"invalid JSON: {exc.msg}", file=str(self.path), line=exc.lineno
            ) from exc

    def _error(self, message: str, line: int | None = None) -> InputError:
        return InputError(message, file=str(self.path), line=line)

    def _typed(self, value: Any, kind: type | tuple[type, ...], what: str, line: int) -> Any:
        """`value` if it has the type the lock format gives `what`, else an InputError
        at `line`: a string of hashes read as a list drops every hash, silently."""
        if not isinstance(value, kind) or isinstance(value, bool):
            names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
            raise self._error(
                f"{what} must be {_TYPE_WORDS.get(names, names)}, not {value!r:.60}", line
            )
        return value

    def _add_index(self, url: str, *, extra: bool) -> None:
        bucket = self.extra_index_urls if extra else self.index_urls
        if url not in bucket:
            bucket.append(url)


_TYPE_WORDS = {"str": "a string", "list": "an array", "dict": "a table/object"}


def one_line(exc: Exception) -> str:
    """An exception's message on one line (packaging's parse errors span three)."""
    return str(exc).splitlines()[0].strip() if str(exc) else type(exc).__name__


def sha256_of(value: str) -> str | None:
    """The bare lower-case sha256 hex digest in `value` ("sha256:ab..", "sha256=ab..").

    Hashes cross stage boundaries as bare sha256 digests, the form the index
    gives (`DistFile.sha256`); other algorithms cannot be compared with the
    index and are dropped (None).
    """
    algo, sep, digest = value.strip().replace("=", ":", 1).partition(":")
    if not sep:
        algo, digest = "sha256", algo
    digest = digest.strip().lower()
    if algo.strip().lower() != "sha256":
        return None
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        return None
    return digest


def pinned_dependency(
    name: str,
    version: str,
    origin: Origin,
    hashes: frozenset[str] = frozenset(),
    marker: str | None = None,
) -> Dependency:
    """A lock-file entry as a pinned Dependency (`name==version[; marker]`).

    A version that is not PEP 440 (old releases have them) is pinned with
    `===`, the arbitrary-equality operator, so it still names one release.
    """
    try:
        Version(version)
        op = "=="
    except InvalidVersion:
        op = "==="
    text = f"{name}{op}{version}"
    if marker:
        text = f"{text}; {marker}"
    return Dependency(text, origin, hashes=hashes, pinned=True)
