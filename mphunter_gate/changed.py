"""`--changed-since REF`: only the dependencies a pull request adds or changes.

A pull request that touches one line of requirements.txt should not pay for
re-scanning the whole tree. This module reads each dependency file as it was
at a git ref (`git show REF:path`, plain git plumbing: nothing from the
project is run), parses that old text with the same `sources` readers as the
new one, and keeps the new-side declarations that are not in the old set.
The gate then resolves only those, so their own dependency trees are still
scanned in full.

Comparison is by what pip would install, not by text or position: canonical
name, specifier, extras, marker, pinned hashes, and whether the line is a
constraint. Moving a line, re-ordering, or moving a requirement to another of
the checked files is not a change. The old side is the union over every
checked file, so a requirement moved from `requirements.txt` into an included
`base.txt` stays unchanged.

Constraints (`-c` files) add no package, but they decide versions: every
constraint is passed on so the resolver sees the same limits as a full
check. A changed constraint marks the requirements of the same name as
changed; one that names no direct requirement (it limits a transitive
dependency, which we cannot map to its parent without resolving) marks every
requirement as changed, the safe direction.

When in doubt the module checks more, never less: a file absent at REF, or
one whose old text no longer parses, counts as entirely new.

`-r`/`-c` includes of requirements files are followed at REF too: each
included file is materialised from git beside the old copy, at its
repo-relative path, so relative includes resolve as pip would. Includes by
URL, or of paths outside the repository, are not followed (the old parse
then fails, and the file counts as entirely new). Other formats read only
their own file.
"""

from __future__ import annotations

import logging
import re
import shlex
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from mphunter_gate.errors import InputError
from mphunter_gate.types import Dependency, LocalProject, Unresolvable

log = logging.getLogger(__name__)

_INCLUDE = re.compile(r"^\s*(-r|-c|--requirement|--constraint)(?:\s*=\s*|\s+|(?=\S))(.+)$")
_COMMENT = re.compile(r"(^|\s+)#.*$")
_GIT_TIMEOUT = 60


@dataclass(frozen=True)
class DepKey:
    """What makes two declarations the same for pip: name, version set, extras, marker, hashes."""

    name: str
    specifier: str
    extras: frozenset[str]
    marker: str
    hashes: frozenset[str]
    constraint: bool


@dataclass(frozen=True)
class Baseline:
    """The declarations of the checked files as they were at `ref`."""

    ref: str
    keys: frozenset[DepKey]
    unresolvable: frozenset[str]


def dep_key(dep: Dependency) -> DepKey:
    """The comparison key of one declaration; unparsable text compares as itself."""
    try:
        req = Requirement(dep.requirement)
    except InvalidRequirement:
        return DepKey(dep.requirement.strip(), "", frozenset(), "", dep.hashes, dep.constraint)
    return DepKey(
        name=canonicalize_name(req.name),
        specifier=str(req.specifier),  # SpecifierSet sorts its parts
        extras=frozenset(canonicalize_name(e) for e in req.extras),
        marker=str(req.marker) if req.marker else "",
        hashes=frozenset(h.lower() for h in dep.hashes),
        constraint=dep.constraint,
    )


# -- git ---------------------------------------------------------------------


def _git(args: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            timeout=_GIT_TIMEOUT,
            check=False,
        )
    except FileNotFoundError as exc:
        raise InputError("--changed-since needs git, which is not installed") from exc
    except subprocess.TimeoutExpired as exc:
        raise InputError(f"git {' '.join(args[:2])} timed out after {_GIT_TIMEOUT}s") from exc


def _repo_root(path: Path, ref: str) -> Path:
    directory = path.resolve().parent
    if not directory.is_dir():
        raise InputError(f"cannot compare with {ref!r}: no such directory", file=str(path))
    out = _git(["rev-parse", "--show-toplevel"], directory)
    if out.returncode != 0:
        raise InputError(f"cannot compare with {ref!r}: not inside a git repository", str(path))
    return Path(out.stdout.decode("utf-8", "replace").strip()).resolve()


def _check_ref(root: Path, ref: str) -> None:
    if ref.startswith("-") or not ref.strip():
        raise InputError(f"--changed-since: {ref!r} is not a git ref")
    out = _git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"], root)
    if out.returncode != 0:
        raise InputError(f"--changed-since: unknown git ref {ref!r} in {root}")


def _show(root: Path, ref: str, rel: PurePosixPath) -> bytes | None:
    """The bytes of `rel` at `ref`, or None when the file did not exist there."""
    out = _git(["show", f"{ref}:{rel.as_posix()}"], root)
    return out.stdout if out.returncode == 0 else None


# -- old versions on disk ------------------------------------------------------


def _includes(text: str) -> Iterable[str]:
    """The targets of `-r`/`-c` lines in a requirements file (continuations ignored)."""
    for raw in text.splitlines():
        line = _COMMENT.sub("", raw).strip()
        found = _INCLUDE.match(line)
        if not found:
            continue
        try:
            parts = shlex.split(found.group(2))
        except ValueError:
            continue
        if parts:
            yield parts[0]


def _inside(rel: PurePosixPath) -> bool:
    return not rel.is_absolute() and ".." not in rel.parts


def _normalise(rel: PurePosixPath) -> PurePosixPath:
    """Collapse `a/../b` without touching the disk; `..` left over means outside the repo."""
    parts: list[str] = []
    for part in rel.parts:
        if part == "..":
            if not parts or parts[-1] == "..":
                parts.append(part)
            else:
                parts.pop()
        elif part != ".":
            parts.append(part)
    return PurePosixPath(*parts) if parts else PurePosixPath(".")


def _materialise(root: Path, ref: str, rel: PurePosixPath, into: Path, seen: set[str]) -> bool:
    """Write `rel` as of `ref` under `into`, and the files it includes; False if absent."""
    if rel.as_posix() in seen:
        return True
    seen.add(rel.as_posix())
    data = _show(root, ref, rel)
    if data is None:
        return False
    target = into / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    if target.suffix.lower() in (".txt", ".in"):
        for include in _includes(data.decode("utf-8", "replace")):
            if "://" in include or include.startswith("file:"):
                continue
            inc = _normalise(rel.parent / PurePosixPath(include))
            if _inside(inc):
                _materialise(root, ref, inc, into, seen)
    return True


def _old_declarations(
    path: Path, ref: str
) -> tuple[list[Dependency], list[Unresolvable | LocalProject]]:
    """What `path` declared at `ref`; nothing if it did not exist or cannot be read."""
    from mphunter_gate.sources import source_for

    root = _repo_root(path, ref)
    _check_ref(root, ref)
    try:
        rel = PurePosixPath(path.resolve().relative_to(root).as_posix())
    except ValueError:
        raise InputError(f"cannot compare with {ref!r}: outside {root}", str(path)) from None
    with tempfile.TemporaryDirectory(prefix="mphunter-gate-ref-") as tmp:
        into = Path(tmp)
        if not _materialise(root, ref, rel, into, set()):
            log.info("%s did not exist at %s: every dependency in it is new", path, ref)
            return [], []
        deps: list[Dependency] = []
        bad: list[Unresolvable | LocalProject] = []
        try:
            for item in source_for(into / rel).collect():
                (deps if isinstance(item, Dependency) else bad).append(item)  # type: ignore[arg-type]
        except InputError as exc:
            log.warning(
                "%s as of %s cannot be read (%s): every dependency in it counts as new",
                path,
                ref,
                str(exc).replace(tmp, "<ref>"),
            )
            return [], []
        return deps, bad


# -- public API ----------------------------------------------------------------


def baseline(files: Sequence[Path], ref: str) -> Baseline:
    """The union of what `files` declared at `ref` (InputError: not a repo, bad ref)."""
    keys: set[DepKey] = set()
    unresolvable: set[str] = set()
    for f in files:
        deps, bad = _old_declarations(Path(f), ref)
        keys.update(dep_key(d) for d in deps)
        unresolvable.update(u.text.strip() for u in bad)
    return Baseline(ref, frozenset(keys), frozenset(unresolvable))


def changed_dependencies(
    files: Sequence[Path],
    ref: str,
    deps: Sequence[Dependency],
    *,
    base: Baseline | None = None,
) -> list[Dependency]:
    """The new-side declarations of `deps` that were added or changed since `ref`.

    Returned in the order of `deps`, with every constraint included (they
    limit versions and add nothing). Empty when no requirement changed.
    """
    base = base if base is not None else baseline(files, ref)
    keyed = [(d, dep_key(d)) for d in deps]
    changed = {id(d) for d, k in keyed if not d.constraint and k not in base.keys}
    moved_constraints = {k.name for d, k in keyed if d.constraint and k not in base.keys}
    requirements = [(d, k) for d, k in keyed if not d.constraint]
    names = {k.name for _, k in requirements}
    if moved_constraints - names:
        log.info(
            "a constraint on %s changed since %s and names no direct requirement: "
            "checking every requirement",
            ", ".join(sorted(moved_constraints - names)),
            ref,
        )
        changed.update(id(d) for d, _ in requirements)
    else:
        changed.update(id(d) for d, k in requirements if k.name in moved_constraints)
    if not changed:
        return []
    return [d for d in deps if d.constraint or id(d) in changed]


def changed_unresolvable(
    files: Sequence[Path],
    ref: str,
    bad: Sequence[Unresolvable | LocalProject],
    *,
    base: Baseline | None = None,
) -> list[Unresolvable | LocalProject]:
    """The URL/path/editable lines of `bad` that are new since `ref` (compared by text)."""
    base = base if base is not None else baseline(files, ref)
    return [u for u in bad if u.text.strip() not in base.unresolvable]
