"""The exact set of distributions that would be installed, found without running code.

`resolve` drives `resolvelib` (the resolver inside pip) over the index's
simple API for a target Python version and platform, taking each release's
dependencies from `metadata` (PEP 658 files, wheel METADATA by range
request, or static sdist declarations), so no setup.py is ever executed.
Lock-file entries are already resolved: they are only looked up on the index.

Nothing is dropped silently: a conflict or a missing package becomes an
`Unresolvable` for the direct requirement that caused it (and the rest is
still resolved), and a release whose dependencies cannot be read statically
carries a note on its `Distribution`.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import (
    NormalizedName,
    canonicalize_name,
)
from packaging.version import InvalidVersion, Version
from resolvelib import AbstractProvider, BaseReporter, ResolutionImpossible, Resolver
from resolvelib.resolvers import ResolutionTooDeep

from mphunter_gate.errors import InputError, PackageIndexError
from mphunter_gate.fetch.metadata import MetadataReader
from mphunter_gate.target import Target
from mphunter_gate.types import Dependency, DistFile, Distribution, FileKind, Unresolvable

if TYPE_CHECKING:
    from mphunter_gate.fetch.index import Index

log = logging.getLogger(__name__)

_SDIST_SUFFIXES = (".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".tar", ".zip")
#: resolvelib's limit on rounds; pip uses 200000.
MAX_ROUNDS = 200_000
#: Concurrent index-page and metadata fetches ahead of the resolver.
PREFETCH_WORKERS = 8

__all__ = ["Target", "resolve"]


@lru_cache(maxsize=65536)
def _version(text: str) -> Version | None:
    """A version string parsed once per run: a project's twenty wheels of one release
    spell it twenty times, and a warm run parses every file name of every page."""
    try:
        return Version(text)
    except InvalidVersion:
        return None


@lru_cache(maxsize=65536)
def _wheel_name_version(filename: str) -> tuple[str, Version] | None:
    parts = filename[:-4].split("-")
    if len(parts) not in (5, 6):
        return None
    version = _version(parts[1])
    return None if version is None else (canonicalize_name(parts[0]), version)


# -- what the resolver juggles ------------------------------------------------------


@dataclass(frozen=True)
class _Req:
    """A requirement inside the resolver (direct or from a release's metadata)."""

    name: NormalizedName
    extras: frozenset[str]
    specifier: SpecifierSet
    text: str

    @property
    def identifier(self) -> str:
        return _identifier(self.name, self.extras)

    @property
    def exact(self) -> bool:
        """Pinned with `==` (no wildcard) or `===`: may select a yanked release (PEP 592)."""
        return any(
            s.operator == "===" or (s.operator == "==" and not s.version.endswith(".*"))
            for s in self.specifier
        )


@dataclass(frozen=True)
class _Candidate:
    name: NormalizedName
    version: Version
    extras: frozenset[str]
    files: tuple[DistFile, ...] = field(compare=False)

    @property
    def identifier(self) -> str:
        return _identifier(self.name, self.extras)


def _identifier(name: str, extras: frozenset[str]) -> str:
    return f"{name}[{','.join(sorted(extras))}]" if extras else name


def _sdist_version(filename: str, name: NormalizedName) -> Version | None:
    """The version in `name-1.0.tar.gz`, trying every `-` split (names contain dashes)."""
    lowered = filename.lower()
    suffix = next((s for s in _SDIST_SUFFIXES if lowered.endswith(s)), None)
    if suffix is None:
        return None
    stem = filename[: -len(suffix)]
    # Most names are spelt at their canonical length: try that split first.
    n = len(name)
    if stem[n : n + 1] == "-" and canonicalize_name(stem[:n]) == name:
        return _version(stem[n + 1 :])
    for i in range(len(stem)):
        if stem[i] == "-" and canonicalize_name(stem[:i]) == name:
            return _version(stem[i + 1 :])
    return None


def _by_version(
    files: Iterable[DistFile], name: NormalizedName
) -> dict[Version, tuple[DistFile, ...]]:
    """A project's files grouped by release (files whose name we cannot parse skipped)."""
    grouped: dict[Version, list[DistFile]] = {}
    for file in files:
        version = _file_version(file, name)
        if version is not None:
            grouped.setdefault(version, []).append(file)
    return {v: tuple(fs) for v, fs in grouped.items()}


def releases(files: Iterable[DistFile], name: str) -> dict[Version, tuple[DistFile, ...]]:
    """A project's files grouped by release, for stages after resolution (the
    cooldown's suggestion of an older release)."""
    return _by_version(files, canonicalize_name(name))


def _file_version(file: DistFile, name: NormalizedName) -> Version | None:
    if file.kind is FileKind.WHEEL:
        parsed = _wheel_name_version(file.filename)
        return parsed[1] if parsed is not None and parsed[0] == name else None
    return _sdist_version(file.filename, name)


class _Provider(AbstractProvider["_Req", "_Candidate", str]):
    """resolvelib's view of the index: candidates from file lists, dependencies from metadata."""

    def __init__(
        self,
        index: Index,
        target: Target,
        reader: MetadataReader,
        constraints: Mapping[str, Sequence[SpecifierSet]],
        roots: Mapping[str, str],
        prefetch: _Prefetch | None = None,
    ) -> None:
        self.index = index
        self.target = target
        self.reader = reader
        self.constraints = constraints
        self.prefetch = prefetch
        self.direct = set(roots)
        self._releases: dict[str, dict[Version, tuple[DistFile, ...]]] = {}
        self._ordered: dict[str, list[Version]] = {}
        #: --offline: projects whose index page is not in the cache, and why.
        self.offline_gaps: dict[str, str] = {}
        #: notes per (name, version): what could not be established.
        self.notes: dict[tuple[str, Version], list[str]] = {}
        #: the direct requirements (identifiers) each identifier was reached from.
        self.roots_of: dict[str, set[str]] = {k: {k} for k in roots}

    # resolvelib interface ---------------------------------------------------

    def identify(self, requirement_or_candidate: _Req | _Candidate) -> str:
        return requirement_or_candidate.identifier

    def get_preference(
        self,
        identifier: str,
        resolutions: Mapping[str, _Candidate],
        candidates: Mapping[str, Iterator[_Candidate]],
        information: Mapping[str, Iterator[Any]],
        backtrack_causes: Sequence[Any],
    ) -> Any:
        reqs = [info.requirement for info in information[identifier]]
        pinned = any(r.exact for r in reqs)
        in_causes = any(
            identifier in (c.requirement.identifier, getattr(c.parent, "identifier", None))
            for c in backtrack_causes
        )
        return (not in_causes, not pinned, identifier not in self.direct, identifier)

    def find_matches(
        self,
        identifier: str,
        requirements: Mapping[str, Iterator[_Req]],
        incompatibilities: Mapping[str, Iterator[_Candidate]],
    ) -> Callable[[], Iterator[_Candidate]]:
        reqs = list(requirements[identifier])
        bad = {c.version for c in incompatibilities[identifier]}
        if not reqs:
            return lambda: iter(())
        name, extras = reqs[0].name, reqs[0].extras
        specs = [r.specifier for r in reqs] + list(self.constraints.get(name, ()))
        exact = any(r.exact for r in reqs)
        releases = self.releases(name)
        ordered = self.ordered(name)

        def matches() -> Iterator[_Candidate]:
            # Lazily, newest first: resolvelib usually needs only the first one,
            # and checking files costs more than comparing versions.
            found = False
            for allow_pre in (False, True) if not _wants_pre(specs) else (True,):
                for version in ordered:
                    if version in bad or (version.is_prerelease and not allow_pre):
                        continue
                    if not all(s.contains(version, prereleases=True) for s in specs):
                        continue
                    files = self._usable(releases[version], allow_yanked=exact)
                    if files:
                        found = True
                        yield _Candidate(name, version, extras, files)
                if found:
                    return  # pre-releases only when no final release fits (as pip)

        return matches

    def is_satisfied_by(self, requirement: _Req, candidate: _Candidate) -> bool:
        return requirement.name == candidate.name and requirement.specifier.contains(
            candidate.version, prereleases=True
        )

    def get_dependencies(self, candidate: _Candidate) -> list[_Req]:
        meta = self.reader.for_release(candidate.files, preferred=self.target.supports_file)
        key = (candidate.name, candidate.version)
        notes = self.notes.setdefault(key, [])
        extra_notes = (meta.extras_note,) if candidate.extras and meta.extras_note else ()
        for note in (*meta.notes, *extra_notes):
            if note not in notes:
                notes.append(note)
        deps: list[_Req] = []
        if candidate.extras:
            # `name[extra]` is `name` at the same version plus the extra's requirements.
            pin = SpecifierSet(f"=={candidate.version}")
            deps.append(
                _Req(candidate.name, frozenset(), pin, f"{candidate.name}=={candidate.version}")
            )
        wanted = sorted(candidate.extras) if candidate.extras else [""]
        for text in meta.requires_dist:
            try:
                req = Requirement(text)
            except InvalidRequirement:
                notes.append(f"ignored invalid requirement in metadata: {text!r}")
                continue
            if not self.target.evaluate(req.marker, wanted):
                continue
            if candidate.extras and self.target.evaluate(req.marker, [""]):
                continue  # a base requirement: the base candidate brings it
            if req.url:
                notes.append(f"dependency unresolved: {text!r} is a direct URL reference")
                continue
            dep = _Req(
                canonicalize_name(req.name),
                frozenset(canonicalize_name(e) for e in req.extras),
                req.specifier,
                text,
            )
            deps.append(dep)
        parent_roots = self.roots_of.get(candidate.identifier, set())
        for dep in deps:
            self.roots_of.setdefault(dep.identifier, set()).update(parent_roots)
            if self.prefetch is not None:
                self.prefetch.warm(dep)
        return deps

    # helpers ----------------------------------------------------------------

    def releases(self, name: NormalizedName) -> dict[Version, tuple[DistFile, ...]]:
        """All releases of `name` on the index, by version (files we cannot parse skipped)."""
        if name not in self._releases:
            by_version = _by_version(_project_files(self.index, name, self.offline_gaps), name)
            self._releases[name] = by_version
            self._ordered[name] = sorted(by_version, reverse=True)
        return self._releases[name]

    def ordered(self, name: NormalizedName) -> list[Version]:
        """The versions of `name`, newest first."""
        self.releases(name)
        return self._ordered[name]

    def _usable(self, files: Sequence[DistFile], *, allow_yanked: bool) -> tuple[DistFile, ...]:
        """The files pip could pick here: not yanked (unless pinned), right Python, right tags."""
        return tuple(
            f for f in files if (allow_yanked or not f.yanked) and self.target.supports_file(f)
        )


class _Prefetch:
    """Fetches, in the background, what the resolver will most likely ask next.

    resolvelib is sequential: it asks for one release's dependencies, then
    for the index page and metadata of each of them, one round trip at a
    time, and a cold resolution is mostly waiting. As soon as a requirement
    is known, its index page and the metadata of its newest matching release
    (the candidate resolvelib tries first) are fetched in a thread pool, so
    they sit in the index's and the reader's caches (both thread-safe) when
    the resolver gets there. A guess that turns out wrong costs one fetch;
    a failure is left for the resolver to meet and report.
    """

    def __init__(self, index: Index, reader: MetadataReader, target: Target) -> None:
        self.pool = ThreadPoolExecutor(max_workers=PREFETCH_WORKERS)
        self.index, self.reader, self.target = index, reader, target
        self._seen: set[str] = set()

    def __enter__(self) -> _Prefetch:
        return self

    def __exit__(self, *exc: object) -> None:
        """Guesses not started yet are dropped; running ones are waited for."""
        self.pool.shutdown(wait=True, cancel_futures=True)

    def warm(self, req: _Req) -> None:
        if req.name in self._seen:
            return
        self._seen.add(req.name)
        self.pool.submit(self._fetch, req.name, req.specifier)

    def _fetch(self, name: NormalizedName, spec: SpecifierSet) -> None:
        try:
            usable = {
                v: [f for f in files if not f.yanked and self.target.supports_file(f)]
                for v, files in _by_version(self.index.project_files(name), name).items()
            }
            fitting = [
                v for v, fs in usable.items() if fs and not v.is_prerelease and spec.contains(v)
            ]
            if fitting:
                self.reader.for_release(usable[max(fitting)], preferred=self.target.supports_file)
        except Exception as exc:  # a guess: the resolver meets and reports real failures
            log.debug("prefetch of %s failed: %s", name, exc)


def _wants_pre(specs: Sequence[SpecifierSet]) -> bool:
    """A specifier that names a pre-release (`>=2.0b1`) allows pre-releases (PEP 440)."""
    return any(s.prereleases for s in specs)


# -- the entry point -----------------------------------------------------------------


def resolve(
    deps: Sequence[Dependency],
    index: Index,
    *,
    python_version: str | None = None,
    platform: str | None = None,
    reader: MetadataReader | None = None,
) -> tuple[list[Distribution], list[Unresolvable]]:
    """The distributions `deps` would install on the target, and what could not be resolved.

    Pinned (lock-file) dependencies are looked up, not resolved. The rest is
    resolved together; if that is impossible, the direct requirements behind
    the conflict become `Unresolvable` and the rest is resolved again.
    """
    target = Target.create(python_version, platform)
    reader = reader or MetadataReader(index, cache_dir=getattr(index, "cache_dir", None))
    unresolvable: list[Unresolvable] = []
    distributions: dict[tuple[str, str], Distribution] = {}

    loose: list[tuple[Dependency, _Req]] = []
    constraints: dict[str, list[SpecifierSet]] = {}
    pinned: list[tuple[Dependency, Requirement]] = []
    for dep in deps:
        try:
            req = Requirement(dep.requirement)
        except InvalidRequirement as exc:
            unresolvable.append(
                Unresolvable(dep.requirement, dep.origin, f"invalid requirement: {exc}")
            )
            continue
        if not target.evaluate(req.marker, ("", *dep.extras)):
            log.debug("%s: marker false on the target; not installed", dep.requirement)
            continue
        if req.url:
            unresolvable.append(Unresolvable(dep.requirement, dep.origin, "direct URL reference"))
        elif dep.constraint:
            constraints.setdefault(canonicalize_name(req.name), []).append(req.specifier)
        elif dep.pinned:
            pinned.append((dep, req))
        else:
            loose.append(
                (
                    dep,
                    _Req(
                        canonicalize_name(req.name),
                        frozenset(canonicalize_name(e) for e in req.extras),
                        req.specifier,
                        dep.requirement,
                    ),
                )
            )

    for dep, req in pinned:
        found = _lookup_pinned(dep, req, index, target)
        if isinstance(found, Unresolvable):
            unresolvable.append(found)
        else:
            distributions.setdefault((found.name, found.version), found)

    for dist in _resolve_loose(loose, constraints, index, target, reader, unresolvable):
        distributions.setdefault((dist.name, dist.version), dist)
    return list(distributions.values()), unresolvable


def _lookup_pinned(
    dep: Dependency, req: Requirement, index: Index, target: Target
) -> Distribution | Unresolvable:
    """A lock-file pin: find its files on the index and check them against the locked hashes."""
    name = canonicalize_name(req.name)
    specs = list(req.specifier)
    if len(specs) != 1 or specs[0].operator not in ("==", "==="):
        return Unresolvable(dep.requirement, dep.origin, "lock entry is not pinned to one version")
    wanted = specs[0].version
    files = []
    gaps: dict[str, str] = {}
    for file in _project_files(index, name, gaps):
        version = _file_version(file, name)
        if version is not None and (str(version) == wanted or _same_version(version, wanted)):
            files.append(file)
    if not files:
        reason = gaps.get(name) or f"{name} {wanted} is not on the index"
        return Unresolvable(dep.requirement, dep.origin, reason)
    notes: list[str] = []
    if dep.hashes:
        files = [f for f in files if f.sha256 is None or f.sha256 in dep.hashes]
        if not files:
            return Unresolvable(
                dep.requirement, dep.origin, "no file on the index matches the locked hashes"
            )
    if not any(target.supports_file(f) for f in files):
        notes.append("no file of this release is installable on the target")
    if all(f.yanked for f in files):
        notes.append("release is yanked")
    return Distribution(
        name=name,
        version=wanted,
        origin=dep.origin,
        files=tuple(files),
        hashes=dep.hashes,
        notes=tuple(notes),
        exact=True,
        specifier=str(req.specifier),
    )


def _project_files(index: Index, name: str, gaps: dict[str, str]) -> tuple[DistFile, ...]:
    """The index's files for `name`; with --offline, a page missing from the cache is
    recorded in `gaps` (and reported per requirement) instead of stopping the run."""
    try:
        return index.project_files(name)
    except PackageIndexError as exc:
        if not getattr(index, "offline", False):
            raise
        gaps[name] = str(exc)
        return ()


def _same_version(version: Version, wanted: str) -> bool:
    try:
        return version == Version(wanted)
    except InvalidVersion:
        return False


def _resolve_loose(
    loose: list[tuple[Dependency, _Req]],
    constraints: Mapping[str, Sequence[SpecifierSet]],
    index: Index,
    target: Target,
    reader: MetadataReader,
    unresolvable: list[Unresolvable],
) -> list[Distribution]:
    """Resolve; on a conflict, set aside the direct requirements behind it and try again."""
    with _Prefetch(index, reader, target) as prefetch:
        for _, req in loose:
            prefetch.warm(req)
        remaining = list(loose)
        while remaining:
            roots: dict[str, str] = {}
            for dep, req in remaining:
                roots.setdefault(req.identifier, dep.requirement)
            provider = _Provider(index, target, reader, constraints, roots, prefetch)
            resolver: Resolver[_Req, _Candidate, str] = Resolver(provider, BaseReporter())
            try:
                result = resolver.resolve([req for _, req in remaining], max_rounds=MAX_ROUNDS)
            except ResolutionImpossible as exc:
                _refuse_direct_conflict(exc, remaining, provider)
                culprits = _culprits(exc, provider)
                reason = _conflict_reason(exc, provider)
                kept = []
                for dep, req in remaining:
                    if req.identifier in culprits:
                        unresolvable.append(Unresolvable(dep.requirement, dep.origin, reason))
                    else:
                        kept.append((dep, req))
                if len(kept) == len(remaining):  # cannot tell who is to blame: all of them are
                    unresolvable.extend(
                        Unresolvable(d.requirement, d.origin, reason) for d, _ in remaining
                    )
                    return []
                remaining = kept
                continue
            except ResolutionTooDeep:
                reason = "resolution did not finish (too many backtracking rounds)"
                unresolvable.extend(
                    Unresolvable(d.requirement, d.origin, reason) for d, _ in remaining
                )
                return []
            return _distributions(result, remaining, provider, unresolvable)
        return []


def _refuse_direct_conflict(
    exc: ResolutionImpossible[_Req, _Candidate],
    remaining: list[tuple[Dependency, _Req]],
    provider: _Provider,
) -> None:
    """An InputError when the user's own files ask for one project in ways no release
    satisfies at once (`httpx>=0.27,<0.28` here, `httpx>=0.23,<0.25` there): a
    conflict in the input, named with both lines, not a package to report unscanned."""
    roots: dict[str, list[_Req]] = {}
    for cause in exc.causes:
        if cause.parent is None:
            roots.setdefault(cause.requirement.identifier, []).append(cause.requirement)
    for ident, reqs in roots.items():
        if len({r.specifier for r in reqs}) < 2:
            continue
        releases = provider.releases(reqs[0].name)
        if any(all(r.specifier.contains(v, prereleases=True) for r in reqs) for v in releases):
            continue  # some release satisfies all: the conflict lies elsewhere
        lines = [(d.origin, d.requirement) for d, r in remaining if r.identifier == ident]
        where = " and ".join(
            f"{o.file}:{o.line} `{text}`" if o else f"`{text}`" for o, text in lines[:4]
        )
        first = lines[0][0] if lines else None
        raise InputError(
            f"conflicting requirements for {reqs[0].name}: {where}; no release satisfies all",
            file=first.file if first else None,
            line=first.line if first else None,
        )


def _culprits(exc: ResolutionImpossible[_Req, _Candidate], provider: _Provider) -> set[str]:
    """The direct requirements (identifiers) that led to the failing requirements."""
    blamed: set[str] = set()
    for cause in exc.causes:
        ident = cause.requirement.identifier if cause.parent is None else cause.parent.identifier
        if cause.parent is None:
            blamed.add(ident)
        blamed |= provider.roots_of.get(ident, set())
    return {b for b in blamed if b in provider.direct}


def _conflict_reason(exc: ResolutionImpossible[_Req, _Candidate], provider: _Provider) -> str:
    missing = sorted(
        {c.requirement.name for c in exc.causes if not provider.releases(c.requirement.name)}
    )
    gaps = [provider.offline_gaps[m] for m in missing if m in provider.offline_gaps]
    if gaps:
        return f"cannot be resolved: {'; '.join(gaps)}"
    if missing:
        return f"cannot be resolved: {', '.join(missing)} not found on the index"
    uninstallable = sorted(
        {
            c.requirement.text
            for c in exc.causes
            if any(
                c.requirement.specifier.contains(v, prereleases=True)
                for v in provider.releases(c.requirement.name)
            )
            and c.parent is None
        }
    )
    if uninstallable and len(uninstallable) == len({c.requirement.text for c in exc.causes}):
        where = f"Python {provider.target.python_full_version}"
        if provider.target.platform:
            where += f" on {provider.target.platform}"
        return (
            f"cannot be resolved: {', '.join(uninstallable)} exists on the index but has no "
            f"file installable on {where}"
        )
    parts = []
    for cause in exc.causes:
        by = (
            ""
            if cause.parent is None
            else f" (required by {cause.parent.name} {cause.parent.version})"
        )
        parts.append(f"{cause.requirement.text}{by}")
    unique = list(dict.fromkeys(parts))
    return "cannot be resolved: no version satisfies " + "; ".join(unique[:5])


def _distributions(
    result: Any,
    remaining: list[tuple[Dependency, _Req]],
    provider: _Provider,
    unresolvable: list[Unresolvable],
) -> list[Distribution]:
    """Distributions from resolvelib's mapping, each with its direct requirement's origin."""
    origin_of_root: dict[str, Dependency] = {}
    for dep, req in remaining:
        origin_of_root.setdefault(req.identifier, dep)
    # Breadth-first from the roots, so each package gets the nearest direct requirement.
    origin: dict[str, Dependency] = {}
    queue: deque[str] = deque()
    for ident in result.graph.iter_children(None):
        if ident in origin_of_root:
            origin[ident] = origin_of_root[ident]
            queue.append(ident)
    while queue:
        ident = queue.popleft()
        for child in result.graph.iter_children(ident):
            if child not in origin:
                origin[child] = origin[ident]
                queue.append(child)

    by_name: dict[str, Distribution] = {}
    order = list(origin) + [i for i in result.mapping if i not in origin]
    for ident in order:
        cand: _Candidate = result.mapping[ident]
        base = cand.name
        if base in by_name:
            continue
        base_cand: _Candidate = result.mapping.get(base, cand)
        via = origin.get(base) or origin.get(ident)
        direct = origin_of_root.get(base) or origin_of_root.get(ident)
        hashes = direct.hashes if direct is not None else frozenset()
        # Every file of the release, not only those usable on the resolving target: the
        # fetch stage picks the installer's file for each target the user asked for.
        files = provider.releases(base).get(base_cand.version, base_cand.files)
        notes = list(dict.fromkeys(provider.notes.get((base, base_cand.version), [])))
        if hashes:
            files = tuple(f for f in files if f.sha256 is None or f.sha256 in hashes)
            if not files and direct is not None:
                reason = (
                    f"no file of {base} {base_cand.version} on the index matches the --hash pins"
                )
                unresolvable.append(Unresolvable(direct.requirement, direct.origin, reason))
                continue
        if all(f.yanked for f in files):
            notes.append("release is yanked")
        selecting = _selecting(result, base, ident)
        by_name[base] = Distribution(
            name=base,
            version=str(base_cand.version),
            origin=via.origin if via is not None else None,
            files=files,
            hashes=hashes,
            notes=tuple(notes),
            exact=any(r.exact for r in selecting),
            specifier=",".join(dict.fromkeys(str(s) for r in selecting for s in r.specifier)),
        )
    return list(by_name.values())


def _selecting(result: Any, *identifiers: str) -> list[_Req]:
    """The requirements that chose a release (of its name and its `name[extra]`),
    less the pin that ties `name[extra]` to `name` (the resolver's, not anyone's)."""
    reqs: list[_Req] = []
    for ident in dict.fromkeys(identifiers):
        criterion = result.criteria.get(ident)
        if criterion is None:
            continue
        for info in criterion.information:
            parent = info.parent
            if parent is not None and parent.name == info.requirement.name:
                continue
            reqs.append(info.requirement)
    return reqs
