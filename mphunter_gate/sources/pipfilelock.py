"""Pipfile.lock: pipenv's JSON lock file, read as already resolved.

Both `default` and `develop` are read. Each entry's environment marker is
kept so resolution drops what the target platform would not install. The
lock's first source is the index, the rest are extra indexes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mphunter_gate.sources._lines import LineFinder
from mphunter_gate.sources.base import DependencySource, pinned_dependency, sha256_of
from mphunter_gate.types import Dependency, Origin, Unresolvable


class PipfileLockSource(DependencySource):
    """The packages of one Pipfile.lock."""

    def collect(self) -> Iterator[Dependency | Unresolvable]:
        text = self._read_text()
        doc = self._load_json(text)
        if not isinstance(doc, dict):
            raise self._error("expected a JSON object", 1)
        finder = LineFinder(text)
        sources = doc.get("_meta", {}).get("sources", [])
        for i, source in enumerate(sources if isinstance(sources, list) else []):
            if isinstance(source, dict) and isinstance(source.get("url"), str):
                self._add_index(source["url"], extra=i > 0)
        for section in ("default", "develop"):
            entries = doc.get(section, {})
            if not isinstance(entries, dict):
                raise self._error(f"`{section}` must be an object", finder.json_key(section))
            start = finder.json_key(section)
            for name, entry in entries.items():
                line = finder.json_key(name, start, fallback=start)
                yield from self._entry(name, entry, Origin(str(self.path), line))

    def _entry(self, name: str, entry: Any, origin: Origin) -> Iterator[Dependency | Unresolvable]:
        if not isinstance(entry, dict):
            raise self._error(f"{name}: entry must be an object", origin.line)
        for kind in ("git", "hg", "svn", "bzr", "path", "file"):
            if kind in entry:
                yield Unresolvable(
                    f"{name} ({kind} = {entry[kind]})", origin, f"{kind} source: not from an index"
                )
                return
        version = entry.get("version")
        if not isinstance(version, str) or not version.startswith("=="):
            raise self._error(
                f"{name}: expected a pinned version (==x), found {version!r}", origin.line
            )
        listed = self._typed(entry.get("hashes", []), list, f"{name}: `hashes`", origin.line)
        hashes = frozenset(
            d
            for h in listed
            if (d := sha256_of(self._typed(h, str, f"{name}: a hash", origin.line)))
        )
        marker = entry.get("markers") if isinstance(entry.get("markers"), str) else None
        yield pinned_dependency(name, version.lstrip("="), origin, hashes, marker)
