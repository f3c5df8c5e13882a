"""uv.lock: uv's universal lock file, read as already resolved.

uv locks for every platform and Python version at once, so the file holds
packages the target never installs (pywin32 on Linux). This reader follows
the lock's dependency graph from the project root(s) and yields only the
packages reachable from them, each pinned with the condition under which it
is installed: the OR, over the paths that reach it, of the AND of the edge
markers along each path (`colorama==0.4.6; sys_platform == "win32"`). The
resolver then drops a pin whose marker is false on the target, exactly as
it does for any other requirement, so `--python-version`/`--platform` need
no separate plumbing into sources.

What is followed, so that the gate scans what CI installs (`uv sync
--all-extras --all-groups`, `uv sync --all-packages` in a workspace):

- roots: every package whose source is `editable` or `virtual` (the
  project, its workspace members, editable path dependencies), plus a
  `directory` package that nothing in the lock depends on (it can only be the
  project itself). They are the user's own code: each gets a "local project"
  row (passed), and what they depend on is judged. The
  lock's `[manifest]` requirements and dependency groups (a workspace whose
  root is not a project keeps its own there) are followed as a root's;
- from a root: its dependencies, every extra in its optional-dependencies and
  every group in its dev-dependencies;
- from any other package: its dependencies, and the optional-dependencies of
  the extras an edge asks for (`{ name = "httpx", extra = ["socks"] }`).

uv's conflict markers (`extra == 'extra-7-project-cpu'`, uv's private
encoding of which conflicting extra or group is active) count as true:
with every extra and group included, each branch of a conflict may be
installed, so each is scanned. Packages unreachable from any root are not
installed and not yielded. A lock with no root and no manifest requirements
(hand-written, or some other tool's) is read whole, unconditionally, as before.

A `directory` package something depends on (a path dependency) is local
code too: a "local project" row, its locked dependencies followed. Git, URL
and path (local archive) sources are unscanned rows (`lockrefs.py`: a git
one is named by its locked commit); they are reported whenever they are
reachable, whatever their marker, since sources cannot evaluate one.
"""

from __future__ import annotations

import logging
import re
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from packaging.markers import InvalidMarker, Marker
from packaging.utils import canonicalize_name

from mphunter_gate.sources._lines import LineFinder
from mphunter_gate.sources.base import DependencySource, pinned_dependency, sha256_of
from mphunter_gate.sources.lockrefs import archive_row, local_row, uv_git_row
from mphunter_gate.types import Dependency, LocalProject, Origin, Unresolvable

log = logging.getLogger(__name__)

PYPI = "https://pypi.org/simple"
_OWN_SOURCES = ("editable", "virtual")
#: A package reached along more distinct marker paths than this is treated as
#: always installed: scanning it costs little, a huge marker costs every run.
_MAX_TERMS = 32
#: uv's encoding of an active conflicting extra/group inside a marker, as
#: packaging prints it (`extra == "extra-7-project-cpu"`).
_CONFLICT = re.compile(r'extra (?:==|!=) "(?:extra|group|project)-\d+-[^"]*"')
#: A marker that holds on every target, standing in for a conflict term.
_ALWAYS = 'python_version >= "0"'

#: A node of the graph: (package index, extra) where extra None is the package itself.
_Node = tuple[int, str | None]
#: A condition in disjunctive normal form: a set of conjunctions of edge markers.
_Condition = frozenset[frozenset[str]]
_TRUE: _Condition = frozenset({frozenset()})


class UvLockSource(DependencySource):
    """The packages of one uv.lock that the project's roots reach."""

    def collect(self) -> Iterator[Dependency | Unresolvable | LocalProject]:
        text = self._read_text()
        doc = self._load_toml(text)
        finder = LineFinder(text)
        packages = doc.get("package", [])
        if not isinstance(packages, list):
            raise self._error("`package` must be an array of tables")
        lines = finder.headers("package")
        entries: list[tuple[dict[str, Any], int]] = []
        for i, pkg in enumerate(packages):
            line = lines[i] if i < len(lines) else 1
            if not isinstance(pkg, dict) or "name" not in pkg:
                raise self._error("[[package]] without a name", line)
            if not isinstance(pkg.get("source", {}), dict):
                raise self._error(f"{pkg['name']}: `source` must be a table", line)
            entries.append((pkg, line))
        manifest = doc.get("manifest", doc.get("workspace"))
        graph = _Graph([pkg for pkg, _ in entries], manifest)
        markers = graph.install_markers()
        for i, (pkg, line) in enumerate(entries):
            if i in graph.roots:  # the project or a workspace member: the user's own code
                yield self._local(pkg, line)
                continue
            if markers is None:
                yield from self._package(pkg, line, None)
            elif i in markers:
                yield from self._package(pkg, line, markers[i])
            else:
                log.debug("%s: not reachable from the project; not installed", pkg["name"])

    def _local(self, pkg: dict[str, Any], line: int) -> LocalProject:
        source = pkg.get("source", {})
        kind = next((k for k in ("editable", "virtual", "directory") if k in source), "directory")
        return local_row(
            str(pkg["name"]), kind, str(source.get(kind, ".")), self.path.name, self._origin(line)
        )

    def _origin(self, line: int) -> Origin:
        return Origin(str(self.path), line)

    def _package(
        self, pkg: dict[str, Any], line: int, marker: str | None
    ) -> Iterator[Dependency | Unresolvable | LocalProject]:
        name = str(pkg["name"])
        origin = self._origin(line)
        source = pkg.get("source", {})
        version = str(pkg["version"]) if "version" in pkg else None
        if "git" in source:
            spec = self._typed(source["git"], str, f"{name}: `source.git`", line)
            yield uv_git_row(name, spec, version, origin)
            return
        if any(kind in source for kind in ("editable", "virtual", "directory")):
            yield self._local(pkg, line)  # a path dependency: local code, deps followed
            return
        for kind in ("url", "path"):
            if kind in source:
                yield archive_row(name, kind, str(source[kind]), origin)
                return
        if "version" not in pkg:
            raise self._error(f"{name}: registry package without a version", line)
        registry = source.get("registry")
        if isinstance(registry, str) and registry.rstrip("/") != PYPI:
            self._add_index(registry, extra=True)
        hashes = self._hashes(pkg, name, line)
        yield pinned_dependency(name, str(pkg["version"]), origin, hashes, marker)

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


class _Graph:
    """The lock's packages as a graph of (package, extra) nodes with marker edges.

    The manifest (`[manifest]`, `[workspace]` in newer locks) is one more
    root: a workspace whose root is not a project keeps its own requirements
    and dependency groups there.
    """

    def __init__(self, packages: Sequence[dict[str, Any]], manifest: Any) -> None:
        self.packages = packages
        self.by_name: dict[str, list[int]] = {}
        for i, pkg in enumerate(packages):
            self.by_name.setdefault(canonicalize_name(str(pkg["name"])), []).append(i)
        self.manifest = _manifest_entries(manifest)
        self.roots = self._roots()

    def _roots(self) -> frozenset[int]:
        depended = {canonicalize_name(str(d["name"])) for d in self.manifest}
        for pkg in self.packages:
            depended |= {canonicalize_name(str(d["name"])) for d in _entries(pkg, everything=True)}
        roots = set()
        for i, pkg in enumerate(self.packages):
            source = pkg.get("source", {})
            if any(kind in source for kind in _OWN_SOURCES) or (
                "directory" in source and canonicalize_name(str(pkg["name"])) not in depended
            ):
                roots.add(i)
        return frozenset(roots)

    def install_markers(self) -> dict[int, str | None] | None:
        """Each reachable package's install condition (None: always), or None with no root.

        A worklist over conditions in DNF: a node's condition only ever
        grows, by conjunctions not already implied, so the walk ends even
        on cyclic graphs.
        """
        if not self.roots and not self.manifest:
            return None
        conditions: dict[_Node, _Condition] = {_MANIFEST: _TRUE}
        queue: deque[_Node] = deque([_MANIFEST])
        for root in sorted(self.roots):
            conditions[(root, None)] = _TRUE
            queue.append((root, None))
        while queue:
            node = queue.popleft()
            here = conditions[node]
            for child, atom in self._edges(node):
                added = here if atom is None else frozenset(c | {atom} for c in here)
                merged = _merge(conditions.get(child, frozenset()), added)
                if merged != conditions.get(child):
                    conditions[child] = merged
                    queue.append(child)
        return {
            i: _marker_text(cond)
            for (i, extra), cond in conditions.items()
            if extra is None and i >= 0 and i not in self.roots
        }

    def _edges(self, node: _Node) -> Iterator[tuple[_Node, str | None]]:
        index, extra = node
        if node == _MANIFEST:
            deps = self.manifest
        elif extra is None:
            deps = _entries(self.packages[index], everything=index in self.roots)
        else:
            deps = _entries(self.packages[index], extra=extra)
        for dep in deps:
            atom = _atom(dep.get("marker"))
            asked = dep.get("extra", dep.get("extras", []))  # edges say extra, manifests extras
            for target in self._targets(dep):
                yield (target, None), atom
                for name in asked if isinstance(asked, list) else []:
                    yield (target, canonicalize_name(str(name))), atom

    def _targets(self, dep: Mapping[str, Any]) -> list[int]:
        """The package(s) an edge names; uv adds `version`/`source` when a name is forked."""
        found = self.by_name.get(canonicalize_name(str(dep["name"])), [])
        narrowed = [
            i
            for i in found
            if ("version" not in dep or str(self.packages[i].get("version")) == str(dep["version"]))
            and ("source" not in dep or self.packages[i].get("source") == dep["source"])
        ]
        return narrowed or found  # an edge we cannot pin down reaches all its candidates


#: The manifest's own requirements, as a node of the graph.
_MANIFEST: _Node = (-1, None)


def _entries(
    pkg: Mapping[str, Any], *, everything: bool = False, extra: str | None = None
) -> list[dict[str, Any]]:
    """A package's dependency entries: with `extra`, only that extra's optional
    ones; otherwise its own, and with `everything` (a root) those of every
    extra and every dev-dependencies group too."""
    lists: list[Any] = [] if extra else [pkg.get("dependencies", [])]
    optional = pkg.get("optional-dependencies", {})
    if isinstance(optional, dict):
        lists += [
            deps
            for name, deps in optional.items()
            if everything or (extra is not None and canonicalize_name(name) == extra)
        ]
    groups = pkg.get("dev-dependencies", {})
    if everything and isinstance(groups, dict):
        lists += list(groups.values())
    return _flatten(lists)


def _manifest_entries(manifest: Any) -> list[dict[str, Any]]:
    """A workspace's own requirements and dependency groups (list, or table with
    `dependencies` as newer locks write them)."""
    if not isinstance(manifest, dict):
        return []
    lists: list[Any] = [manifest.get("requirements", [])]
    groups = manifest.get("dependency-groups", {})
    for group in groups.values() if isinstance(groups, dict) else []:
        lists.append(group.get("dependencies", []) if isinstance(group, dict) else group)
    return _flatten(lists)


def _flatten(lists: Sequence[Any]) -> list[dict[str, Any]]:
    return [
        d
        for deps in lists
        if isinstance(deps, list)
        for d in deps
        if isinstance(d, dict) and "name" in d
    ]


def _atom(marker: Any) -> str | None:
    """One edge's marker, normalised, with uv's conflict terms taken as true (None: always)."""
    if not isinstance(marker, str) or not marker.strip():
        return None
    try:
        text = str(Marker(marker))
    except InvalidMarker:
        # Like Target.evaluate: a marker we cannot read counts as true.
        log.debug("cannot parse uv.lock marker %r; treating it as true", marker)
        return None
    if not _CONFLICT.search(text):
        return text
    if not re.sub(r"[()\s]|\band\b|\bor\b", "", _CONFLICT.sub("", text)):
        return None  # nothing but conflict terms
    return _CONFLICT.sub(_ALWAYS, text)


def _merge(old: _Condition, new: _Condition) -> _Condition:
    """`old or new`, keeping only minimal conjunctions (a superset of another is implied)."""
    terms = set(old) | set(new)
    minimal = frozenset(t for t in terms if not any(o < t for o in terms))
    return _TRUE if len(minimal) > _MAX_TERMS else minimal


def _marker_text(condition: _Condition) -> str | None:
    """The condition as one PEP 508 marker; `and` binds tighter than `or`, so
    only an atom that is itself an `or` needs parentheses."""
    if frozenset() in condition:
        return None
    terms = sorted(sorted(term) for term in condition)
    return " or ".join(" and ".join(f"({a})" if " or " in a else a for a in term) for term in terms)
