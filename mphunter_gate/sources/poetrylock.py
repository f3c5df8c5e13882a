"""poetry.lock: Poetry's lock file, read as already resolved.

Both layouts are read: per-package `files = [...]` (lock format 2) and the
older `[metadata.files]` table. Packages from a `legacy` source (a private
index) add that index. The project itself is not in the lock; a `directory`
source (a path dependency, `develop = true` or not) is the user's own code,
a "local project" row whose dependencies Poetry locked as packages of their
own; git, URL and file sources are unscanned rows (`lockrefs.py`: a git one
named by its `resolved_reference`, the commit Poetry locked).
"""

from __future__ import annotations

from collections.abc import Iterator

from packaging.utils import canonicalize_name

from mphunter_gate.sources._lines import LineFinder
from mphunter_gate.sources.base import DependencySource, pinned_dependency, sha256_of
from mphunter_gate.sources.lockrefs import archive_row, git_row, local_row
from mphunter_gate.types import Dependency, LocalProject, Origin, Unresolvable


class PoetryLockSource(DependencySource):
    """The packages of one poetry.lock."""

    def collect(self) -> Iterator[Dependency | Unresolvable | LocalProject]:
        text = self._read_text()
        doc = self._load_toml(text)
        finder = LineFinder(text)
        packages = doc.get("package", [])
        if not isinstance(packages, list):
            raise self._error("`package` must be an array of tables")
        old_files = doc.get("metadata", {}).get("files", {})
        old_by_name = (
            {canonicalize_name(k): v for k, v in old_files.items()}
            if isinstance(old_files, dict)
            else {}
        )
        lines = finder.headers("package")
        for i, pkg in enumerate(packages):
            line = lines[i] if i < len(lines) else 1
            if not isinstance(pkg, dict) or "name" not in pkg or "version" not in pkg:
                raise self._error("[[package]] needs a name and a version", line)
            name = self._typed(pkg["name"], str, "`name`", line)
            version = self._typed(pkg["version"], str, f"{name}: `version`", line)
            origin = Origin(str(self.path), line)
            source = pkg.get("source", {})
            kind = source.get("type") if isinstance(source, dict) else None
            if kind in ("git", "url", "file", "directory"):
                yield self._non_index(name, version, kind, source, origin, line)
                continue
            if kind == "legacy" and isinstance(source.get("url"), str):
                self._add_index(source["url"], extra=True)
            files = pkg.get("files", old_by_name.get(canonicalize_name(name), []))
            hashes = set()
            for entry in self._typed(files, list, f"{name}: `files`", line):
                entry = self._typed(entry, dict, f"{name}: a file", line)
                value = entry.get("hash")
                if value is not None:
                    digest = sha256_of(self._typed(value, str, f"{name}: a hash", line))
                    if digest:
                        hashes.add(digest)
            yield pinned_dependency(name, version, origin, frozenset(hashes))

    def _non_index(
        self,
        name: str,
        version: str,
        kind: str,
        source: dict[str, object],
        origin: Origin,
        line: int,
    ) -> Unresolvable | LocalProject:
        """The row of a package Poetry installs from outside any index."""
        url = self._typed(source.get("url"), str, f"{name}: `source.url`", line)

        def optional(key: str) -> str | None:
            value = source.get(key)
            return self._typed(value, str, f"{name}: `source.{key}`", line) if value else None

        if kind == "git":
            commit, ref = optional("resolved_reference"), optional("reference")
            return git_row(name, url, commit, ref, optional("subdirectory"), version, origin)
        if kind == "directory":
            return local_row(name, kind, url, self.path.name, origin)
        return archive_row(name, kind, url, origin)
