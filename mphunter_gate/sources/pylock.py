"""pylock.toml (PEP 751): the standard lock file, read as already resolved.

Each package's `marker` is kept, so resolution drops what the target would
not install. Packages from an index other than PyPI add that index; VCS,
directory and archive packages are unresolvable.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mphunter_gate.sources._lines import LineFinder
from mphunter_gate.sources.base import DependencySource, pinned_dependency, sha256_of
from mphunter_gate.types import Dependency, Origin, Unresolvable

PYPI = "https://pypi.org/simple"


class PylockSource(DependencySource):
    """The packages of one pylock.toml / pylock.<name>.toml."""

    def collect(self) -> Iterator[Dependency | Unresolvable]:
        text = self._read_text()
        doc = self._load_toml(text)
        finder = LineFinder(text)
        version = str(doc.get("lock-version", ""))
        if not version.startswith("1."):
            line = finder.toml_key("lock-version", fallback=1)
            raise self._error(f"unsupported lock-version {version!r} (expected 1.x)", line)
        packages = doc.get("packages", [])
        if not isinstance(packages, list):
            raise self._error("`packages` must be an array of tables")
        lines = finder.headers("packages")
        for i, pkg in enumerate(packages):
            line = lines[i] if i < len(lines) else 1
            if not isinstance(pkg, dict) or "name" not in pkg:
                raise self._error("[[packages]] without a name", line)
            yield from self._package(pkg, Origin(str(self.path), line))

    def _package(self, pkg: dict[str, Any], origin: Origin) -> Iterator[Dependency | Unresolvable]:
        name = self._typed(pkg["name"], str, "`name`", origin.line)
        for kind in ("vcs", "directory", "archive"):
            if kind in pkg:
                where = (
                    pkg[kind].get("url") or pkg[kind].get("path")
                    if isinstance(pkg[kind], dict)
                    else None
                )
                yield Unresolvable(
                    f"{name} ({kind} = {where})", origin, f"{kind} package: not from an index"
                )
                return
        if "version" not in pkg:
            raise self._error(f"{name}: package from an index without a version", origin.line)
        index = pkg.get("index")
        if isinstance(index, str) and index.rstrip("/") != PYPI:
            self._add_index(index, extra=True)
        version = self._typed(pkg["version"], str, f"{name}: `version`", origin.line)
        entries: list[Any] = []
        if "sdist" in pkg:
            entries.append(self._typed(pkg["sdist"], dict, f"{name}: `sdist`", origin.line))
        entries.extend(self._typed(pkg.get("wheels", []), list, f"{name}: `wheels`", origin.line))
        hashes = set()
        for entry in entries:
            entry = self._typed(entry, dict, f"{name}: a wheel", origin.line)
            table = self._typed(entry.get("hashes", {}), dict, f"{name}: `hashes`", origin.line)
            value = table.get("sha256")
            if value is not None:
                digest = sha256_of(self._typed(value, str, f"{name}: a sha256", origin.line))
                if digest:
                    hashes.add(digest)
        marker = pkg.get("marker") if isinstance(pkg.get("marker"), str) else None
        yield pinned_dependency(name, version, origin, frozenset(hashes), marker)
