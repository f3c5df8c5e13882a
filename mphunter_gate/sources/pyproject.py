"""pyproject.toml: `[project]` dependencies, optional dependencies, PEP 735 groups.

All three are read, because any of them can end up installed (`pip install
.[extra]`, `uv sync --group dev`), and a gate should not need to know which
the user meant. Dependencies the project marks `dynamic` are computed by its
build backend, which would mean running code: they are reported as
unresolvable instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from mphunter_gate.sources._lines import LineFinder
from mphunter_gate.sources.base import DependencySource, one_line
from mphunter_gate.types import Dependency, Origin, Unresolvable


class PyprojectSource(DependencySource):
    """The dependency tables of one pyproject.toml."""

    def collect(self) -> Iterator[Dependency | Unresolvable]:
        text = self._read_text()
        doc = self._load_toml(text)
        finder = LineFinder(text)
        project = doc.get("project", {})
        if not isinstance(project, dict):
            raise self._error("[project] must be a table", finder.header("project"))
        own_name = canonicalize_name(str(project.get("name", ""))) if project.get("name") else None
        dynamic = {str(d).lower() for d in project.get("dynamic", [])}

        section = finder.header("project") or 1
        if "dependencies" in dynamic:
            yield Unresolvable(
                "[project] dependencies",
                Origin(str(self.path), section),
                "declared dynamic: only the build backend (running code) could compute them",
            )
        yield from self._list(
            project.get("dependencies", []), "project.dependencies", finder, section, own_name
        )

        optional = project.get("optional-dependencies", {})
        if "optional-dependencies" in dynamic:
            yield Unresolvable(
                "[project] optional-dependencies",
                Origin(str(self.path), section),
                "declared dynamic: only the build backend (running code) could compute them",
            )
        if not isinstance(optional, dict):
            raise self._error("[project.optional-dependencies] must be a table", section)
        opt_line = finder.header("project.optional-dependencies") or section
        for extra, reqs in optional.items():
            start = finder.toml_key(extra, opt_line, fallback=opt_line)
            yield from self._list(reqs, f"optional-dependencies.{extra}", finder, start, own_name)

        groups = doc.get("dependency-groups", {})
        if not isinstance(groups, dict):
            raise self._error(
                "[dependency-groups] must be a table", finder.header("dependency-groups")
            )
        group_line = finder.header("dependency-groups") or 1
        for key, entries in groups.items():
            line = finder.toml_key(key, group_line, fallback=group_line)
            if not isinstance(entries, list):
                raise self._error(f"dependency group {key!r} must be a list", line)
            for entry in entries:
                if isinstance(entry, str):
                    yield from self._one(entry, finder.string(entry, line, line), own_name)
                elif isinstance(entry, dict) and set(entry) == {"include-group"}:
                    # Every group is read anyway; an include only has to be valid.
                    self._check_include(groups, str(entry["include-group"]), line, (key,))
                else:
                    raise self._error(
                        f"dependency group {key!r}: unsupported entry {entry!r}", line
                    )

    def _list(
        self, reqs: Any, where: str, finder: LineFinder, start: int, own_name: str | None
    ) -> Iterator[Dependency | Unresolvable]:
        if not isinstance(reqs, list):
            raise self._error(f"{where} must be a list of strings", start)
        for req in reqs:
            if not isinstance(req, str):
                raise self._error(f"{where} must hold strings, found {req!r}", start)
            line = finder.string(req, start, fallback=start)
            yield from self._one(req, line, own_name)

    def _one(
        self, text: str, line: int, own_name: str | None
    ) -> Iterator[Dependency | Unresolvable]:
        origin = Origin(str(self.path), line)
        try:
            req = Requirement(text)
        except InvalidRequirement as exc:
            raise self._error(f"invalid requirement {text!r}: {one_line(exc)}", line) from exc
        if own_name is not None and canonicalize_name(req.name) == own_name:
            return  # `myproject[extra]` refers to extras that are read here anyway
        if req.url:
            yield Unresolvable(text, origin, f"direct reference to {req.url}: not from an index")
            return
        yield Dependency(text, origin)

    def _check_include(
        self, groups: dict[str, Any], name: str, line: int, stack: tuple[str, ...]
    ) -> None:
        """PEP 735: an included group must exist, and includes must not form a cycle."""
        wanted = canonicalize_name(name)
        matches = [g for g in groups if canonicalize_name(g) == wanted]
        if not matches:
            raise self._error(f"dependency group {name!r} is included but not defined", line)
        key = matches[0]
        if key in stack:
            raise self._error(f"dependency group cycle: {' -> '.join((*stack, key))}", line)
        for entry in groups[key]:
            if isinstance(entry, dict) and "include-group" in entry:
                self._check_include(groups, str(entry["include-group"]), line, (*stack, key))
