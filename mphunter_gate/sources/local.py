"""The user's own project, named by a dependency file (`-e .`, `./lib[socks]`).

`pip install -e .` installs the project and everything it requires. The
project is the user's code, which the gate does not judge; what it requires
is exactly what the gate exists for, so its requirements are read statically
(pyproject.toml's `[project]`, setup.cfg, or the literals of setup.py: read
as text, never run, the same reader as for an sdist) and become dependencies
of their own, with the extras the line asked for. The project gets a row that
says what it is; when its requirements cannot be read (declared dynamic),
that row is unscanned, since what it would install is unknown.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

from mphunter_gate.fetch.metadata import metadata_from_folder
from mphunter_gate.types import Dependency, LocalProject, Origin


def local_project(
    folder: Path, extras: frozenset[str], text: str, origin: Origin
) -> Iterator[Dependency | LocalProject]:
    """The project's row, then one Dependency per requirement it declares."""
    meta = metadata_from_folder(folder)
    name = _project_name(folder)
    if not meta.complete:
        why = "; ".join(meta.notes) or "its requirements are not declared statically"
        yield LocalProject(text, origin, name, f"local project: {why}", complete=False)
        return
    asked = f" with extras {', '.join(sorted(extras))}" if extras else ""
    yield LocalProject(
        text,
        origin,
        name,
        f"local project (your own code, not judged): {len(meta.requires_dist)} "
        f"requirement(s) read from {meta.source}{asked}, each judged in its own row",
    )
    for req in meta.requires_dist:
        yield Dependency(req, origin, extras=extras)


def _project_name(folder: Path) -> str:
    """`[project] name` when pyproject.toml gives one, else the folder's name."""
    try:
        name = tomllib.loads((folder / "pyproject.toml").read_text()).get("project", {}).get("name")
    except (OSError, ValueError, AttributeError):
        name = None
    return name if isinstance(name, str) and name else folder.name
