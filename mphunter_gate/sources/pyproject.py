"""pyproject.toml: `[project]` dependencies, optional dependencies, PEP 735
groups, and Poetry's `[tool.poetry.dependencies]` and dependency groups.

All of them are read, because any of them can end up installed (`pip install
.[extra]`, `uv sync --group dev`, `poetry install --all-extras --with docs`),
and a gate should not need to know which the user meant. Dependencies the
project marks `dynamic` are computed by its build backend, which would mean
running code: they are reported as unresolvable instead.

Poetry's constraints are translated to PEP 440 the way poetry-core reads
them (`^1.2.3` is `>=1.2.3,<2.0.0`, `~1.2` is `>=1.2,<1.3`, a bare `1.2.3`
is `==1.2.3`), its `python` key into a marker. Two things have no PEP 440
form and are reported as unresolvable rather than guessed: `||` alternatives
in a package's version (a specifier set is one range), and git, path and URL
dependencies (not from an index). Poetry 2 projects that declare
`[project].dependencies` may repeat them in `[tool.poetry.dependencies]` to
add a source; reading both only gives the resolver the same name twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from mphunter_gate.sources._lines import LineFinder
from mphunter_gate.sources.base import DependencySource, one_line
from mphunter_gate.sources.poetry_constraints import constraint as poetry_constraint
from mphunter_gate.sources.poetry_constraints import python_marker
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

        tool = doc.get("tool", {})
        poetry = tool.get("poetry", {}) if isinstance(tool, dict) else None
        if isinstance(poetry, dict):
            own_name = own_name or (
                canonicalize_name(str(poetry["name"])) if poetry.get("name") else None
            )
            yield from self._poetry(poetry, finder, own_name)

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

    def _poetry(
        self, poetry: dict[str, Any], finder: LineFinder, own_name: str | None
    ) -> Iterator[Dependency | Unresolvable]:
        """`[tool.poetry.dependencies]`, the legacy `dev-dependencies` and every group's."""
        indexes = {
            str(s.get("name")): str(s["url"])
            for s in poetry.get("source", [])
            if isinstance(s, dict) and s.get("url")
        }
        tables = [("tool.poetry.dependencies", poetry.get("dependencies", {}))]
        tables.append(("tool.poetry.dev-dependencies", poetry.get("dev-dependencies", {})))
        groups = poetry.get("group", {})
        for group, body in groups.items() if isinstance(groups, dict) else ():
            deps = body.get("dependencies", {}) if isinstance(body, dict) else None
            tables.append((f"tool.poetry.group.{group}.dependencies", deps))
        for where, table in tables:
            start = finder.header(where) or finder.header("tool.poetry") or 1
            if not isinstance(table, dict):
                raise self._error(f"[{where}] must be a table", start)
            for name, spec in table.items():
                if canonicalize_name(name) == "python":
                    continue  # the interpreter the project supports, not a package
                if own_name is not None and canonicalize_name(name) == own_name:
                    continue
                line = finder.header(f"{where}.{name}") or finder.toml_key(name, start, start)
                for one in spec if isinstance(spec, list) else [spec]:
                    yield from self._poetry_one(name, one, Origin(str(self.path), line), indexes)

    def _poetry_one(
        self, name: str, spec: Any, origin: Origin, indexes: dict[str, str]
    ) -> Iterator[Dependency | Unresolvable]:
        table = spec if isinstance(spec, dict) else {"version": spec}
        for kind in ("git", "path", "url", "file"):
            if kind in table:
                yield Unresolvable(
                    f"{name} ({kind} = {table[kind]})",
                    origin,
                    f"{kind} dependency: not from an index",
                )
                return
        text = str(table.get("version", "*"))
        try:
            alternatives = poetry_constraint(text)
            python = poetry_constraint(str(table.get("python", "*")))
        except ValueError as exc:
            raise self._error(f"{name}: {exc}", origin.line) from exc
        if len(alternatives) > 1:
            yield Unresolvable(
                f"{name} = {text!r}",
                origin,
                "`||` alternatives have no PEP 440 form (a specifier set is one range); "
                "narrow the constraint to one range to have it scanned",
            )
            return
        extras = [str(e) for e in table.get("extras", [])]
        markers = [f"({m})" for m in (table.get("markers"), python_marker(python)) if m]
        requirement = name + (f"[{','.join(extras)}]" if extras else "")
        requirement += ",".join(op + version for op, version in alternatives[0])
        if markers:
            requirement += " ; " + " and ".join(markers)
        source = table.get("source")
        if isinstance(source, str) and source in indexes:
            self._add_index(indexes[source], extra=True)
        try:
            Requirement(requirement)
        except InvalidRequirement as exc:
            raise self._error(f"{name}: {text!r} is not a valid constraint", origin.line) from exc
        yield Dependency(requirement, origin)
