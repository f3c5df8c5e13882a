"""uv.lock: uv's universal lock file, read as already resolved.

uv locks for every platform at once, so this yields every locked package,
including ones that only another platform installs: scanning more than is
installed is the safe direction for a gate. The project itself and its
workspace members (`editable`/`virtual` sources) are the user's own code
and are skipped; git, URL and path sources are unresolvable.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mphunter_gate.sources._lines import LineFinder
from mphunter_gate.sources.base import DependencySource, pinned_dependency, sha256_of
from mphunter_gate.types import Dependency, Origin, Unresolvable

PYPI = "https://pypi.org/simple"


class UvLockSource(DependencySource):
    """The packages of one uv.lock."""

    def collect(self) -> Iterator[Dependency | Unresolvable]:
        text = self._read_text()
        doc = self._load_toml(text)
        finder = LineFinder(text)
        packages = doc.get("package", [])
        if not isinstance(packages, list):
            raise self._error("`package` must be an array of tables")
        lines = finder.headers("package")
        for i, pkg in enumerate(packages):
            line = lines[i] if i < len(lines) else 1
            if not isinstance(pkg, dict) or "name" not in pkg:
                raise self._error("[[package]] without a name", line)
            yield from self._package(pkg, line)

    def _package(self, pkg: dict[str, Any], line: int) -> Iterator[Dependency | Unresolvable]:
        name = str(pkg["name"])
        origin = Origin(str(self.path), line)
        source = pkg.get("source", {})
        if not isinstance(source, dict):
            raise self._error(f"{name}: `source` must be a table", line)
        if "editable" in source or "virtual" in source:
            return  # the project or a workspace member: the user's own code
        for kind in ("git", "url", "path", "directory"):
            if kind in source:
                yield Unresolvable(
                    f"{name} ({kind} = {source[kind]})", origin, f"{kind} source: not from an index"
                )
                return
        if "version" not in pkg:
            raise self._error(f"{name}: registry package without a version", line)
        registry = source.get("registry")
        if isinstance(registry, str) and registry.rstrip("/") != PYPI:
            self._add_index(registry, extra=True)
        yield pinned_dependency(name, str(pkg["version"]), origin, self._hashes(pkg, name, line))

    def _hashes(self, pkg: dict[str, Any], name: str, line: int) -> frozenset[str]:
        entries: list[Any] = []
        if isinstance(pkg.get("sdist"), dict):
            entries.append(pkg["sdist"])
        wheels = pkg.get("wheels", [])
        if not isinstance(wheels, list):
            raise self._error(f"{name}: `wheels` must be an array", line)
        entries.extend(wheels)
        found = set()
        for entry in entries:
            value = entry.get("hash") if isinstance(entry, dict) else None
            if isinstance(value, str) and (digest := sha256_of(value)):
                found.add(digest)
        return frozenset(found)
