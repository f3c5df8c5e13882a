"""Which files of a package run without anyone asking: at install or at import.

MPHunter read only the top-level setup.py. Measurement says payloads also
sit in the top-level package's `__init__.py`, in the modules it imports,
in `.pth` files (run at every interpreter start) and in in-tree build
backends. This module picks those files from a `Tree` by name and by
reading import statements as text; nothing is executed.
"""

from __future__ import annotations

import ast
import posixpath
import re
import tomllib

from mphunter_gate.archive import Tree, decode
from mphunter_gate.errors import ArchiveError
from mphunter_gate.types import Script, ScriptKind

#: Folders whose code does not run at install or import time.
_SKIP_DIRS = {"test", "tests", "testing", "docs", "doc", "examples", "example", "benchmarks"}
#: Bound on modules followed from one package's `__init__.py`.
MAX_IMPORTED = 12
_IMPORT_RE = re.compile(r"^\s*(?:from\s+([.\w]+)\s+import\s+([\w, ()]+)|import\s+([\w.]+))", re.M)


def _root(names: list[str]) -> str:
    """The common top folder of an sdist (`pkg-1.0/`), or '' for a wheel/folder."""
    tops = {n.split("/", 1)[0] for n in names}
    if len(tops) == 1 and all("/" in n for n in names):
        return tops.pop() + "/"
    return ""


def _imports(text: str) -> list[tuple[int, str, list[str]]]:
    """(level, module, imported names) for every import; regex fallback for py2 files."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        out = []
        for m in _IMPORT_RE.finditer(text):
            if m.group(3):
                out.append((0, m.group(3), []))
            else:
                mod = m.group(1)
                level = len(mod) - len(mod.lstrip("."))
                names = [n.strip(" ()") for n in m.group(2).split(",")]
                out.append((level, mod.lstrip("."), names))
        return out
    result = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            result.extend((0, a.name, []) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            result.append((node.level, node.module or "", [a.name for a in node.names]))
    return result


class _Picker:
    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        self.names = tree.names()
        self.files = set(self.names)
        self.root = _root(self.names)
        self.picked: dict[str, ScriptKind] = {}

    def text(self, name: str) -> str:
        return decode(self.tree.read(name))

    def add(self, name: str, kind: ScriptKind) -> None:
        self.picked.setdefault(name, kind)

    def module_file(self, base: str, dotted: str) -> str | None:
        """`a.b` under folder `base` -> `base/a/b.py` or `base/a/b/__init__.py`."""
        stem = posixpath.join(base, *dotted.split(".")) if dotted else base
        for cand in (stem + ".py", posixpath.join(stem, "__init__.py")):
            if cand in self.files:
                return cand
        return None

    def follow_imports(self, name: str, package_base: str, package: str, budget: int) -> int:
        """Add the in-package modules that `name` imports (one level deep)."""
        try:
            imports = _imports(self.text(name))
        except ArchiveError:
            return budget
        here = posixpath.dirname(name)
        for level, module, imported in imports:
            if budget <= 0:
                break
            if level:
                base = here
                for _ in range(level - 1):
                    base = posixpath.dirname(base)
                targets = [module] if module else []
                targets += [f"{module}.{n}" if module else n for n in imported]
                found = [self.module_file(base, t) for t in targets if t]
            elif module.split(".")[0] == package:
                found = [self.module_file(package_base, module)]
                found += [self.module_file(package_base, f"{module}.{n}") for n in imported]
            else:
                continue
            for f in found:
                if f and f not in self.picked:
                    self.add(f, ScriptKind.MODULE)
                    budget -= 1
        return budget


def _backend_files(p: _Picker) -> list[str]:
    """In-tree build backends: `backend-path` in pyproject.toml runs at build time."""
    pyproject = p.root + "pyproject.toml"
    if pyproject not in p.files:
        return []
    try:
        doc = tomllib.loads(p.text(pyproject))
    except (tomllib.TOMLDecodeError, ArchiveError):
        return []
    bs = doc.get("build-system", {})
    paths, backend = bs.get("backend-path"), bs.get("build-backend")
    if not isinstance(paths, list) or not isinstance(backend, str):
        return []
    module = backend.split(":")[0]
    out = []
    for bp in paths:
        if isinstance(bp, str):
            f = p.module_file(posixpath.normpath(p.root + bp), module)
            if f:
                out.append(f)
    return out


def select(tree: Tree, mode: str = "all_files") -> tuple[Script, ...]:
    """The install- and import-time scripts of a package, setup.py first.

    `mode` is the seed's `file_search_mode`: `setup_only` reads only the
    top-level setup.py; `all_files` adds backends, `.pth`, top-level
    package `__init__.py` and the modules they import.
    """
    p = _Picker(tree)
    setup = p.root + "setup.py"
    if setup in p.files:
        p.add(setup, ScriptKind.SETUP)
    if mode != "setup_only":
        for f in _backend_files(p):
            p.add(f, ScriptKind.BACKEND)
        for n in p.names:
            if n.endswith(".pth") and n.count("/") <= p.root.count("/") + 2:
                p.add(n, ScriptKind.PTH)
        if setup in p.picked:  # local helper modules that setup.py imports
            p.follow_imports(setup, p.root, "", MAX_IMPORTED)
        for base in (p.root, p.root + "src/"):
            for n in p.names:
                rest = n[len(base) :] if n.startswith(base) else None
                if rest is None or rest.count("/") != 1 or not rest.endswith("/__init__.py"):
                    continue
                package = rest.split("/")[0]
                if package in _SKIP_DIRS or not package.isidentifier():
                    continue
                p.add(n, ScriptKind.INIT)
                p.follow_imports(n, base, package, MAX_IMPORTED)
    scripts = []
    for name, kind in p.picked.items():
        try:
            text = p.text(name)
        except (ArchiveError, OSError, KeyError) as exc:
            raise ArchiveError(f"cannot read {name}: {exc}") from exc
        scripts.append(Script(path=name, kind=kind, text=text))
    return tuple(scripts)
