"""The modules behind a package's entry points, read from its metadata as text.

A payload hidden in the module a `console_scripts` entry point names runs
as soon as the user types the command, and one behind a plugin group
(`pytest11`, ...) runs whenever the host loads its plugins; neither sits
in setup.py or in a package `__init__.py`, so the install/import-time
selection misses it. Entry points are declared in setup.py, setup.cfg,
pyproject.toml or a built `entry_points.txt`; this module reads every one
of them statically (setup.py only as literals of its syntax tree) and
returns the declared module names. Mapping modules to files is left to
the caller (`files._Picker.module_file`).
"""

from __future__ import annotations

import ast
import configparser
import contextlib
import posixpath
import sys
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass

from mphunter_gate.errors import ArchiveError
from mphunter_gate.select.literals import literal_str as _literal_str

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

#: Folders whose `entry_points.txt` is a built distribution's record of its entry points.
_METADATA_DIRS = (".dist-info", ".egg-info")
#: How deep setup.py's names are followed (`EPS = {"console_scripts": SCRIPTS}`).
_MAX_NAME_HOPS = 3


@dataclass(frozen=True)
class EntryPoint:
    """One declared entry point: which group, which name, which module runs."""

    group: str  # "console_scripts", "gui_scripts", or a plugin group ("pytest11", ...)
    name: str  # the command / plugin name
    module: str  # dotted module path, e.g. "pkg.cli" (the part before ":")
    declared_in: str  # the tree path of the file that declared it (setup.py, setup.cfg, ...)


def _module(value: str) -> str | None:
    """The module of an entry point's value `module:attr [extras]`, or None.

    Lenient on spacing and extras, since installers are; strict on the
    result being a dotted identifier, since anything else names no module
    the caller could map to a file.
    """
    value = value.split("#", 1)[0].split("[", 1)[0]
    module = value.split(":", 1)[0].strip()
    parts = module.split(".")
    return module if module and all(p.isidentifier() for p in parts) else None


class _Found:
    """Entry points in the order found, each (group, name, module) once.

    The same entry point is often declared twice (setup.cfg and the
    sdist's egg-info); the first declaration is kept, so the caller maps
    each module once.
    """

    def __init__(self) -> None:
        self.points: dict[tuple[str, str, str], EntryPoint] = {}

    def add(self, group: str, name: str, value: str, declared_in: str) -> None:
        group, name = group.strip(), name.strip()
        module = _module(value)
        if group and name and module:
            self.points.setdefault(
                (group, name, module), EntryPoint(group, name, module, declared_in)
            )

    def add_line(self, group: str, line: str, declared_in: str) -> None:
        """One `name = module:attr` line."""
        line = line.strip()
        if not line or line.startswith(("#", ";")) or "=" not in line:
            return
        name, value = line.split("=", 1)
        self.add(group, name, value, declared_in)

    def add_ini(self, text: str, declared_in: str) -> None:
        """Entry points in INI form (`[group]` then `name = module:attr` lines).

        Read line by line, as importlib.metadata reads `entry_points.txt`,
        rather than with configparser: the format has no continuations, and
        a duplicate or stray line must not hide the rest of the file.
        """
        group = ""
        for raw in text.splitlines():
            line = raw.strip()
            if line.startswith("[") and line.endswith("]"):
                group = line[1:-1].strip()
            elif group:
                self.add_line(group, line, declared_in)


def _module_assigns(tree: ast.Module) -> dict[str, ast.expr]:
    """Names assigned exactly once at setup.py's top level, with their values.

    A name assigned twice (or in a branch) could hold either value, so it
    is not followed; the caller then finds nothing there, as it would for
    any computed value.
    """
    seen: dict[str, list[ast.expr]] = {}
    changed: set[str] = set()
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    seen.setdefault(target.id, []).append(stmt.value)
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            if stmt.value is not None:
                seen.setdefault(stmt.target.id, []).append(stmt.value)
        elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
            changed.add(stmt.target.id)
    return {n: v[0] for n, v in seen.items() if len(v) == 1 and n not in changed}


def _resolve(node: ast.expr, assigns: dict[str, ast.expr]) -> ast.expr:
    """`node`, or the literal a top-level name holds (a few hops at most)."""
    for _ in range(_MAX_NAME_HOPS):
        if not isinstance(node, ast.Name) or node.id not in assigns:
            break
        node = assigns[node.id]
    return node


def _dict_items(node: ast.expr) -> Iterator[tuple[ast.expr | None, ast.expr]]:
    """Key/value pairs of a `{...}` literal or a `dict(key=...)` call."""
    if isinstance(node, ast.Dict):
        yield from zip(node.keys, node.values, strict=True)
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
        for kw in node.keywords:
            if kw.arg:
                yield ast.Constant(kw.arg), kw.value


def _from_setup_value(
    node: ast.expr, assigns: dict[str, ast.expr], found: _Found, declared_in: str
) -> None:
    """setup.py's `entry_points=` value: a dict of group -> lines, or an INI string."""
    node = _resolve(node, assigns)
    text = _literal_str(node)
    if text is not None:
        found.add_ini(text, declared_in)
        return
    for key, value in _dict_items(node):
        group = _literal_str(key)
        if group is None:
            continue
        value = _resolve(value, assigns)
        items = value.elts if isinstance(value, ast.List | ast.Tuple | ast.Set) else [value]
        for item in items:
            for line in (_literal_str(_resolve(item, assigns)) or "").splitlines():
                found.add_line(group, line, declared_in)


def _from_setup_py(tree: ast.Module, found: _Found, declared_in: str) -> None:
    """Every `entry_points=` keyword and `"entry_points":` dict key in setup.py.

    Not only `setup(...)`'s own keyword: metadata is often gathered in a
    `dict(entry_points=...)` or `{"entry_points": ...}` and passed as
    `setup(**kwargs)`, and reading any call or dict is as cheap as
    telling them apart.
    """
    assigns = _module_assigns(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for kw in node.keywords:
                if kw.arg == "entry_points":
                    _from_setup_value(kw.value, assigns, found, declared_in)
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if _literal_str(key) == "entry_points":
                    _from_setup_value(value, assigns, found, declared_in)


class _CaseKeepingParser(configparser.ConfigParser):
    """configparser that keeps keys' case: entry-point groups and names are case-sensitive."""

    def optionxform(self, optionstr: str) -> str:
        return optionstr


def _from_setup_cfg(
    text: str, cfg: str, files: Collection[str], read: Callable[[str], str], found: _Found
) -> None:
    """`[options.entry_points]` (setuptools) and `[entry_points]` (pbr) of setup.cfg.

    setuptools also takes `[options] entry_points = file: x.cfg`, an INI
    file of entry points beside setup.cfg; it is followed when the tree
    holds it.
    """
    parser = _CaseKeepingParser(interpolation=None, strict=False, default_section="\0")
    try:
        parser.read_string(text)
    except configparser.Error:
        return
    for section in ("options.entry_points", "entry_points"):
        if parser.has_section(section):
            for group in parser.options(section):
                for line in parser.get(section, group).splitlines():
                    found.add_line(group, line, cfg)
    if parser.has_option("options", "entry_points"):
        value = parser.get("options", "entry_points").strip()
        if value.startswith("file:"):
            for rel in value[len("file:") :].split(","):
                name = posixpath.normpath(posixpath.join(posixpath.dirname(cfg), rel.strip()))
                listed = _read(read, name) if name in files else None
                if listed is not None:
                    found.add_ini(listed, name)


def _table(doc: object, *keys: str) -> dict[str, object]:
    """`doc[k1][k2]...` when every step is a table, else {}."""
    for key in keys:
        doc = doc.get(key) if isinstance(doc, dict) else None
    return doc if isinstance(doc, dict) else {}


def _from_pyproject(doc: dict[str, object], found: _Found, declared_in: str) -> None:
    """PEP 621 scripts and entry points, and Poetry's and Flit's own tables."""
    groups: list[tuple[str, dict[str, object]]] = [
        ("console_scripts", _table(doc, "project", "scripts")),
        ("gui_scripts", _table(doc, "project", "gui-scripts")),
        ("console_scripts", _table(doc, "tool", "flit", "scripts")),
    ]
    plugin_tables = (
        ("project", "entry-points"),
        ("tool", "poetry", "plugins"),
        ("tool", "flit", "entrypoints"),
    )
    for keys in plugin_tables:
        for group, table in _table(doc, *keys).items():
            if isinstance(table, dict):
                groups.append((group, table))
    for group, table in groups:
        for name, value in table.items():
            if isinstance(value, str):
                found.add(group, name, value, declared_in)
    for name, value in _table(doc, "tool", "poetry", "scripts").items():
        if isinstance(value, dict):  # {callable = ...} (Poetry 1) or {reference, type} (2)
            if value.get("type", "console") != "console":
                continue  # type = "file": a script file, not a module
            value = value.get("reference", value.get("callable"))
        if isinstance(value, str):
            found.add("console_scripts", name, value, declared_in)


def _read(read: Callable[[str], str], name: str) -> str | None:
    """`read(name)`, or None when that file cannot be read: its source is skipped."""
    try:
        return read(name)
    except (ArchiveError, KeyError):
        return None


def _metadata_files(files: Collection[str]) -> list[str]:
    """`entry_points.txt` of any `*.dist-info/` or `*.egg-info/` folder, in order."""
    out = []
    for name in files:
        folder, base = posixpath.split(name)
        if base == "entry_points.txt" and folder.endswith(_METADATA_DIRS):
            out.append(name)
    return sorted(out)


def entry_points(
    files: Collection[str], read: Callable[[str], str], root: str, setup_tree: ast.Module | None
) -> list[EntryPoint]:
    """Every entry point a package declares, from all of its declaring files.

    `files` are the tree's names, `read` gives one file's text, `root` is
    the sdist's top folder (`pkg-1.0/`, '' for a wheel) and `setup_tree`
    the root setup.py parsed (None when absent or unparsable). All sources
    are read, not the first one found: the one a build would use is not
    knowable statically, and an attacker can declare the payload in the
    one a reviewer would not look at. A source that cannot be read or
    parsed is skipped; the rest still count.
    """
    found = _Found()
    setup_py = root + "setup.py"
    if setup_tree is not None:
        _from_setup_py(setup_tree, found, setup_py)
    cfg = root + "setup.cfg"
    text = _read(read, cfg) if cfg in files else None
    if text is not None:
        _from_setup_cfg(text, cfg, files, read, found)
    pyproject = root + "pyproject.toml"
    text = _read(read, pyproject) if pyproject in files else None
    if text is not None:
        # A broken pyproject.toml declares nothing a build could use.
        with contextlib.suppress(tomllib.TOMLDecodeError, RecursionError):
            _from_pyproject(tomllib.loads(text), found, pyproject)
    for name in _metadata_files(files):
        text = _read(read, name)
        if text is not None:
            found.add_ini(text, name)
    return list(found.points.values())
