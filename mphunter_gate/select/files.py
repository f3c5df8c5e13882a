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

from mphunter_gate.errors import ArchiveError
from mphunter_gate.fetch.archive import Tree, decode
from mphunter_gate.types import Script, ScriptKind

#: Folders whose code does not run at install or import time.
_SKIP_DIRS = {"test", "tests", "testing", "docs", "doc", "examples", "example", "benchmarks"}
#: Which rules `select` follows; bump it whenever `select` picks different files, so
#: a benign corpus stored under older rules is fetched again (`corpus.download`).
#: 1: setup.py, backends, .pth, package __init__ and imports; 2: + declared py_modules.
SELECTION_VERSION = 2
#: Bound on modules followed from one package's `__init__.py`.
MAX_IMPORTED = 12
_IMPORT_RE = re.compile(r"^\s*(?:from\s+([.\w]+)\s+import\s+([\w, ()]+)|import\s+([\w.]+))", re.M)


def _root(names: list[str]) -> str:
    """The common top folder of an sdist (`pkg-1.0/`), or '' for a wheel/folder.

    A single top folder that is itself a package (`pkg/__init__.py`) is a
    wheel or folder holding one package, not an sdist's wrapper folder.
    """
    tops = {n.split("/", 1)[0] for n in names}
    if len(tops) == 1 and all("/" in n for n in names):
        top = tops.pop() + "/"
        if top + "__init__.py" not in names:
            return top
    return ""


_DYNAMIC_IMPORTERS = {"import_module", "__import__"}


def _parse(text: str) -> ast.Module | None:
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _imports(text: str, tree: ast.Module | None) -> list[tuple[int, str, list[str]]]:
    """(level, module, imported names) for every import of `text` (parsed as
    `tree`); regex fallback for py2 files, which `ast` rejects (tree None).

    `importlib.import_module("x.y")` and `__import__("x")` with a literal
    name count as imports too: hiding the payload module behind them is cheap.
    """
    if tree is None:
        out: list[tuple[int, str, list[str]]] = []
        for m in _IMPORT_RE.finditer(text):
            if m.group(3):
                out.append((0, m.group(3), []))
            else:
                mod = m.group(1)
                level = len(mod) - len(mod.lstrip("."))
                names = [n.strip(" ()") for n in m.group(2).split(",")]
                out.append((level, mod.lstrip("."), names))
        return out
    result: list[tuple[int, str, list[str]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            result.extend((0, a.name, []) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            result.append((node.level, node.module or "", [a.name for a in node.names]))
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            arg = node.args[0]
            dotted = arg.value if isinstance(arg, ast.Constant) else None
            if called in _DYNAMIC_IMPORTERS and isinstance(dotted, str):
                level = len(dotted) - len(dotted.lstrip("."))
                if all(part.isidentifier() for part in dotted[level:].split(".")):
                    result.append((level, dotted[level:], []))
    return result


class _Picker:
    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        self.names = tree.names()
        self.files = set(self.names)
        self.root = _root(self.names)
        self.links = set(tree.links())
        self.picked: dict[str, ScriptKind] = {}
        self._texts: dict[str, str] = {}
        self._syntax: dict[str, ast.Module | None] = {}
        self._pyproject: dict[str, object] | None = None

    def text(self, name: str) -> str:
        if name not in self._texts:
            self._texts[name] = decode(self.tree.read(name))
        return self._texts[name]

    def syntax(self, name: str) -> ast.Module | None:
        """`name` parsed; None when `ast` rejects it.

        setup.py is read by two rules (the modules it imports, the `py_modules`
        it declares), so its tree is kept; any other file is read by one rule,
        and its tree (large for a big module) is not kept.
        """
        if name != self.root + "setup.py":
            return _parse(self.text(name))
        if name not in self._syntax:
            self._syntax[name] = _parse(self.text(name))
        return self._syntax[name]

    def pyproject(self) -> dict[str, object]:
        """The root pyproject.toml parsed once; {} when absent or unreadable."""
        if self._pyproject is None:
            name = self.root + "pyproject.toml"
            try:
                self._pyproject = tomllib.loads(self.text(name)) if name in self.files else {}
            except (tomllib.TOMLDecodeError, ArchiveError):
                self._pyproject = {}
        return self._pyproject

    def refuse_link(self, name: str) -> None:
        """A link where an install-time file belongs: not followed, so not scannable."""
        if name in self.links:
            raise ArchiveError(f"{name} is a link; links are not followed, so it cannot be read")

    def add(self, name: str, kind: ScriptKind) -> None:
        self.picked.setdefault(name, kind)

    def module_file(self, base: str, dotted: str) -> str | None:
        """`a.b` under folder `base` -> `base/a/b.py` or `base/a/b/__init__.py`."""
        base = posixpath.normpath(base) if base else ""
        base = "" if base == "." else base
        parts = [p for p in dotted.split(".") if p]
        if not parts:
            return None
        stem = posixpath.join(base, *parts)
        for cand in (stem + ".py", posixpath.join(stem, "__init__.py")):
            if cand in self.files:
                return cand
        return None

    def follow_imports(self, name: str, search_base: str, budget: int = MAX_IMPORTED) -> int:
        """Add the modules of this tree that `name` imports (one level deep).

        Relative imports resolve against `name`'s folder; absolute ones
        against `search_base`, the folder that is on sys.path when `name`
        runs (the sdist root for setup.py, site-packages for a package, i.e.
        the folder holding the package). Imports of modules the tree does
        not hold (the stdlib, dependencies) are left to the analysis.
        """
        try:
            imports = _imports(self.text(name), self.syntax(name))
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
            else:
                base = search_base
            targets = [module] if module else []
            targets += [f"{module}.{n}" if module else n for n in imported if n != "*"]
            for f in (self.module_file(base, t) for t in targets):
                if f and f not in self.picked:
                    self.add(f, ScriptKind.MODULE)
                    budget -= 1
        return budget


def _backend_files(p: _Picker) -> list[tuple[str, str]]:
    """In-tree build backends: `backend-path` in pyproject.toml runs at build time.

    Returns (backend file, the backend-path folder it was found in).
    """
    p.refuse_link(p.root + "pyproject.toml")
    bs = p.pyproject().get("build-system")
    if not isinstance(bs, dict):
        return []
    paths, backend = bs.get("backend-path"), bs.get("build-backend")
    if not isinstance(paths, list) or not isinstance(backend, str):
        return []
    module = backend.split(":")[0].strip()
    out = []
    for bp in paths:
        if isinstance(bp, str):
            folder = posixpath.normpath(p.root + bp)
            f = p.module_file(folder, module)
            if f:
                out.append((f, folder))
    return out


def _literal_str(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _literal_strings(node: ast.expr) -> list[str]:
    items = node.elts if isinstance(node, ast.List | ast.Tuple) else []
    return [v for v in map(_literal_str, items) if v is not None]


def _setup_py_modules(tree: ast.Module | None) -> tuple[list[str], str]:
    """`py_modules` and the root `package_dir` of a literal `setup(...)` call."""
    for node in ast.walk(tree) if tree is not None else ():
        if not isinstance(node, ast.Call):
            continue
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        if "py_modules" not in keywords:
            continue
        pkg_dir = keywords.get("package_dir")
        pairs = (
            zip(pkg_dir.keys, pkg_dir.values, strict=True) if isinstance(pkg_dir, ast.Dict) else ()
        )
        folder = next((_literal_str(v) or "" for k, v in pairs if _literal_str(k) == ""), "")
        return _literal_strings(keywords["py_modules"]), folder
    return [], ""


def _declared_modules(p: _Picker) -> list[tuple[str, str]]:
    """Top-level single-file modules a package declares (`py_modules`), with
    the folder they are imported from.

    Such a module is its distribution's import-time entry point, as a
    package's `__init__.py` is, but no `__init__.py` marks it: it is named
    in setup.py's `setup(py_modules=[...])` or in pyproject.toml's
    `[tool.setuptools] py-modules`. Both are read as literals.
    """
    declared: list[tuple[str, str]] = []
    setup = p.root + "setup.py"
    if setup in p.picked:
        try:
            names, folder = _setup_py_modules(p.syntax(setup))
        except ArchiveError:
            names, folder = [], ""
        declared += [(n, folder) for n in names]
    tools = p.pyproject().get("tool")
    tool = tools.get("setuptools") if isinstance(tools, dict) else None
    if isinstance(tool, dict):
        names = tool.get("py-modules", [])
        dirs = tool.get("package-dir", {})
        folder = dirs.get("", "") if isinstance(dirs, dict) else ""
        if isinstance(names, list) and isinstance(folder, str):
            declared += [(n, folder) for n in names if isinstance(n, str)]
    out = []
    for name, folder in declared:
        if not name.isidentifier():
            continue
        base = posixpath.normpath(posixpath.join(p.root, folder)) if folder else p.root
        f = posixpath.join(base, name + ".py")
        p.refuse_link(f)
        if f in p.files:
            out.append((f, base))
    return out


def select(tree: Tree, mode: str = "all_files") -> tuple[Script, ...]:
    """The install- and import-time scripts of a package, setup.py first.

    `mode` is the seed's `file_search_mode`: `setup_only` reads only the
    top-level setup.py; `all_files` adds backends, `.pth`, top-level
    package `__init__.py`, declared single-file modules (`py_modules`) and
    the modules they import.
    """
    p = _Picker(tree)
    setup = p.root + "setup.py"
    p.refuse_link(setup)
    if setup in p.files:
        p.add(setup, ScriptKind.SETUP)
    if mode != "setup_only":
        pth_depth = p.root.count("/") + 2
        for n in p.links:
            if n.endswith(".pth") and n.count("/") <= pth_depth:
                p.refuse_link(n)
        backends = _backend_files(p)
        for f, _ in backends:
            p.add(f, ScriptKind.BACKEND)
        for n in p.names:
            if n.endswith(".pth") and n.count("/") <= pth_depth:
                p.add(n, ScriptKind.PTH)
        if setup in p.picked:  # local helper modules that setup.py imports
            p.follow_imports(setup, p.root)
        for f, folder in backends:  # backend-path is on sys.path while it runs
            p.follow_imports(f, folder)
        for f, base in _declared_modules(p):
            p.add(f, ScriptKind.MODULE)
            p.follow_imports(f, base)
        for base in (p.root, p.root + "src/"):
            for n in [*p.names, *p.links]:
                rest = n[len(base) :] if n.startswith(base) else None
                if rest is None or rest.count("/") != 1 or not rest.endswith("/__init__.py"):
                    continue
                package = rest.split("/")[0]
                if package in _SKIP_DIRS or not package.isidentifier():
                    continue
                p.refuse_link(n)
                if p.picked.get(n) is ScriptKind.MODULE:  # setup.py imported it first
                    p.picked[n] = ScriptKind.INIT
                p.add(n, ScriptKind.INIT)
                p.follow_imports(n, base)
    scripts = []
    for name, kind in p.picked.items():
        try:
            text = p.text(name)
        except (ArchiveError, OSError, KeyError) as exc:
            raise ArchiveError(f"cannot read {name}: {exc}") from exc
        scripts.append(Script(path=name, kind=kind, text=text))
    return tuple(scripts)
