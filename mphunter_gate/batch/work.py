"""What a batch judges: local archives and folders, a names file, a change feed.

Each source yields `WorkItem`s, small frozen values that travel to Dask
workers. A path must be readable where the workers run (the same machine for
a LocalCluster, a shared file system on a cluster); a project is listed and
downloaded by the worker itself, so the driver never becomes the bottleneck
of a 700k backfill.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests
from packaging.utils import canonicalize_name

from mphunter_gate.errors import InputError, PackageIndexError

#: PEP 691's JSON flavour of the simple API.
SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
#: A project name as PEP 508 allows it (before normalisation).
_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")
#: A pinned version: PEP 440 characters only, so nothing odd reaches a URL or a key.
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+!_-]*$")


@dataclass(frozen=True)
class WorkItem:
    """One package to judge.

    `kind` is `path` (a local archive or folder, `target` its path as given) or
    `project` (`target` the canonical project name, `version` a pin or None for
    the latest release). `key` names the item itself, for the row an item gets
    when nothing of it could be examined (no file, hence no sha256).
    """

    kind: str
    target: str
    version: str | None = None

    @property
    def key(self) -> str:
        pin = f"=={self.version}" if self.version else ""
        return f"item:{self.kind}:{self.target}{pin}"

    @property
    def label(self) -> str:
        return f"{self.target}=={self.version}" if self.version else self.target


def from_paths(paths: list[str]) -> Iterator[WorkItem]:
    """Local archives and folders; a missing path is the user's input error."""
    for p in paths:
        path = Path(p)
        if not path.exists():
            raise InputError("no such file or directory", file=p)
        if not (path.is_file() or path.is_dir()):
            raise InputError("not a regular file or folder", file=p)
        yield WorkItem("path", p)


def from_names_file(path: Path) -> Iterator[WorkItem]:
    """`name` or `name==version` per line; `#` starts a comment, blank lines are skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read names file: {exc}", file=str(path)) from exc
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = (part.strip() for part in line.partition("=="))
        if not _NAME.match(name) or (sep and not _VERSION.match(version)):
            raise InputError(
                f"expected `name` or `name==version`, got {line!r}", file=str(path), line=number
            )
        yield WorkItem("project", str(canonicalize_name(name)), version or None)


@dataclass(frozen=True)
class Changes:
    """The projects whose `_last-serial` is above the serial asked for, and the
    highest serial seen (where the next run continues)."""

    items: tuple[WorkItem, ...]
    serial: int


def changed_since(index_url: str, serial: int, timeout: float = 120.0) -> Changes:
    """The change feed of a PEP 691 index: its project list with `_last-serial`.

    PyPI's JSON project list carries each project's `_last-serial`; a project
    whose serial grew since the last run has a new upload (or a yank, or a
    deletion: judging its latest release again is cheap when its files are
    already in the store). An index without `_last-serial` has no change feed:
    that is infrastructure, not the user's input, so it is an error of its own.
    """
    url = index_url.rstrip("/") + "/"
    try:
        resp = requests.get(url, headers={"Accept": SIMPLE_JSON}, timeout=timeout)
    except requests.RequestException as exc:
        raise PackageIndexError(f"cannot read the project list at {url}: {exc}") from exc
    if resp.status_code != 200:
        raise PackageIndexError(f"project list at {url}: the server answered {resp.status_code}")
    try:
        doc = json.loads(resp.content)
        projects = doc["projects"]
    except (ValueError, KeyError, TypeError) as exc:
        raise PackageIndexError(f"project list at {url} is not PEP 691 JSON") from exc
    items: list[WorkItem] = []
    top = serial
    for entry in projects:
        last = entry.get("_last-serial") if isinstance(entry, dict) else None
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(last, int) or not isinstance(name, str):
            raise PackageIndexError(f"project list at {url} gives no `_last-serial` per project")
        if last > serial and _NAME.match(name):
            items.append(WorkItem("project", str(canonicalize_name(name))))
            top = max(top, last)
    return Changes(tuple(dict.fromkeys(items)), top)


def tree_digest(path: Path) -> str:
    """A folder's content hash (relative paths and bytes, sorted), so a folder
    has a key like an archive's sha256 and a rerun skips it only if unchanged."""
    digest = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink()):
        rel = f.relative_to(path).as_posix().encode()
        digest.update(len(rel).to_bytes(4, "big") + rel)
        digest.update(hashlib.sha256(f.read_bytes()).digest())
    return "tree-" + digest.hexdigest()
