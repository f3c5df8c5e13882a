"""Every file of a package that can run, and the stage at which it runs.

MPHunter read only the top-level setup.py. Measured on recent malware, the
payload also sits in modules imported several levels below `__init__.py`,
in the module a console script names, in a helper setup.py imports after
`sys.path.insert`, in a module the victim calls, or in a data file some code
hands to `exec`. So every Python file of the artifact is read, and each is
labelled with the earliest stage at which it runs (`types.Stage`):

1. `install`: setup.py, in-tree build backends, and their local import closure
   (setup.py's folder, `sys.path` insertions and `backend-path` on the path);
2. `startup`: every `.pth` file and what it imports;
3. `import`: the top-level packages' `__init__.py`, top-level and declared
   single-file modules, and their import closure at any depth (relative and
   absolute imports, `importlib.import_module`/`__import__` with a literal,
   the parent packages a dotted import runs);
4. `entry-point`: the modules entry points name (`entry_points.py`) and their
   closure, and a wheel's `.data/scripts/` Python scripts;
5. `call`: every other `.py` file.

Data files that a selected script reads and executes (`data_code.py`) are read
as code at that script's stage. Imports are found by a line scan rather than a
parse: it sees imports in py2 files and in docstrings alike (a file labelled
too early costs nothing, one labelled too late hides nothing either, since it
is read at `call`), and it costs a small fraction of `ast.parse` on the
thousands of files a large package holds. Nothing is executed.
"""

from __future__ import annotations

import ast
import posixpath
import re
import sys
from collections import deque
from collections.abc import Iterable
from functools import cached_property

from mphunter_gate.errors import ArchiveError
from mphunter_gate.fetch.archive import Tree, decode
from mphunter_gate.select import data_code
from mphunter_gate.select.entry_points import entry_points
from mphunter_gate.select.literals import literal_str, literal_strings, parse
from mphunter_gate.types import Script, ScriptKind, Stage

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

#: Which rules `select` follows; bump it whenever `select` picks different files, so
#: a benign corpus stored under older rules is fetched again (`corpus.download`) and
#: cached verdicts judged on fewer files are not reused.
#: 1: setup.py, backends, .pth, package __init__ and imports; 2: + declared py_modules;
#: 3: every .py file, by stage, with the import closure at any depth, entry points and
#: data files handed to exec.
SELECTION_VERSION = 3
#: Top-level folders that are not the package's importable code (still read, at `call`).
_SKIP_DIRS = {"test", "tests", "testing", "docs", "doc", "examples", "example", "benchmarks"}
#: Data files read as code per package; more is refused rather than half read.
MAX_DATA_CODE = 256
#: Compiled code without its source: importable, and not readable statically.
_COMPILED = (".pyc", ".pyo")
#: Modules `site` imports at every interpreter start when they are on sys.path.
_SITE_HOOKS = ("sitecustomize", "usercustomize")

_IMPORT_RE = re.compile(
    r"^[ \t]*(?:from[ \t]+([.\w]+)[ \t]+import[ \t]+(\([^)]*\)|[^\n#;]+)|import[ \t]+([^\n#;]+))",
    re.M,
)
_DYNAMIC_RE = re.compile(r"""(?:import_module|__import__)\(\s*[rRuU]?["']([.\w]+)["']""")
_SYS_PATH_RE = re.compile(r"(?:sys\.path\.(?:insert|append)|addsitedir)\s*\(([^\n]*)")
_STRING_RE = re.compile(r"""["']([\w./-]+)["']""")
_STAGE_ORDER = {stage: i for i, stage in enumerate(Stage)}


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


def _imports(text: str) -> list[tuple[int, str, list[str]]]:
    """(level, module, imported names) for every import statement `text` spells,
    and every `import_module("x")`/`__import__("x")` with a literal name."""
    out: list[tuple[int, str, list[str]]] = []
    for m in _IMPORT_RE.finditer(text):
        if m.group(3) is not None:
            for part in m.group(3).split(","):
                dotted = part.split(" as ")[0].strip()
                if dotted:
                    out.append((0, dotted, []))
        else:
            mod = m.group(1)
            level = len(mod) - len(mod.lstrip("."))
            names = [n.split(" as ")[0].strip(" ()\\\n\t") for n in m.group(2).split(",")]
            out.append((level, mod.lstrip("."), [n for n in names if n]))
    for m in _DYNAMIC_RE.finditer(text):
        dotted = m.group(1)
        level = len(dotted) - len(dotted.lstrip("."))
        out.append((level, dotted[level:], []))
    return out


def _setup_py_modules(tree: ast.Module | None) -> tuple[list[str], str]:
    """`py_modules` and the root `package_dir` of a literal `setup(...)` call."""
    modules: list[str] = []
    folder = ""
    for node in ast.walk(tree) if tree is not None else ():
        if not isinstance(node, ast.Call):
            continue
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        if "py_modules" in keywords:
            modules += literal_strings(keywords["py_modules"])
        pkg_dir = keywords.get("package_dir")
        if isinstance(pkg_dir, ast.Dict):
            for k, v in zip(pkg_dir.keys, pkg_dir.values, strict=True):
                if k is not None and literal_str(k) == "":
                    folder = literal_str(v) or folder
    return modules, folder


class _Picker:
    """The selection of one tree: files picked so far, their kind and stage."""

    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        self.names = tree.names()
        self.files = set(self.names)
        self.root = _root(self.names)
        self.links = set(tree.links())
        self.picked: dict[str, tuple[ScriptKind, Stage]] = {}
        self.decoded: dict[str, tuple[str, str]] = {}  # data file -> (text, how decoded)
        self._texts: dict[str, str] = {}
        self._setup_tree: ast.Module | None = None
        self._pyproject: dict[str, object] | None = None

    # -- reading -----------------------------------------------------------

    def text(self, name: str) -> str:
        if name not in self._texts:
            self._texts[name] = decode(self.tree.read(name))
        return self._texts[name]

    def setup_tree(self) -> ast.Module | None:
        """The root setup.py parsed once (three rules read its literals)."""
        setup = self.root + "setup.py"
        if self._setup_tree is None and setup in self.files:
            self._setup_tree = parse(self.text(setup))
        return self._setup_tree

    def pyproject(self) -> dict[str, object]:
        """The root pyproject.toml parsed once; {} when absent or unreadable."""
        if self._pyproject is None:
            name = self.root + "pyproject.toml"
            try:
                self._pyproject = tomllib.loads(self.text(name)) if name in self.files else {}
            except (tomllib.TOMLDecodeError, ArchiveError):
                self._pyproject = {}
        return self._pyproject

    @cached_property
    def package_folders(self) -> frozenset[str]:
        """Every folder that holds an `__init__.py` at any depth below it."""
        out: set[str] = set()
        for n in self.names:
            if n.endswith("/__init__.py"):
                folder = posixpath.dirname(n)
                while folder and folder not in out:
                    out.add(folder)
                    folder = posixpath.dirname(folder)
        return frozenset(out)

    def refuse_link(self, name: str) -> None:
        """A link where a file that runs belongs: not followed, so not scannable."""
        if name in self.links:
            raise ArchiveError(f"{name} is a link; links are not followed, so it cannot be read")

    # -- picking -----------------------------------------------------------

    def add(self, name: str, kind: ScriptKind, stage: Stage) -> bool:
        """Pick `name` unless an earlier stage has it; True if it is new."""
        if name in self.picked:
            return False
        self.picked[name] = (kind, stage)
        return True

    def module_file(self, base: str, dotted: str) -> str | None:
        """`a.b` under folder `base` -> `base/a/b.py` or `base/a/b/__init__.py`."""
        base = posixpath.normpath(base) if base else ""
        base = "" if base == "." else base
        parts = [p for p in dotted.split(".") if p]
        if not parts:
            return None
        stem = posixpath.join(base, *parts)
        for cand in (stem + ".py", posixpath.join(stem, "__init__.py")):
            if cand in self.files or cand in self.links:
                self.refuse_link(cand)
                return cand
        return None

    def _module_files(self, base: str, dotted: str) -> list[str]:
        """The files importing `dotted` from `base` runs: each parent package's
        `__init__.py`, then the module itself."""
        parts = dotted.split(".")
        found = [self.module_file(base, ".".join(parts[: i + 1])) for i in range(len(parts))]
        return [f for f in found if f]

    def path_inserts(self, name: str, text: str) -> list[str]:
        """Folders of this tree that `name` puts on `sys.path` (literal parts only)."""
        here = posixpath.dirname(name)
        out = []
        for m in _SYS_PATH_RE.finditer(text):
            for lit in _STRING_RE.findall(m.group(1)):
                for base in (here, self.root.rstrip("/")):
                    folder = posixpath.normpath(posixpath.join(base, lit))
                    if folder not in out and any(f.startswith(folder + "/") for f in self.names):
                        out.append(folder)
        return out

    def closure(self, start: Iterable[tuple[str, str]], stage: Stage, roots: list[str]) -> None:
        """Pick, at `stage`, every module of this tree that the `start` files import,
        transitively. Each start file comes with the folder on `sys.path` when it
        runs; absolute imports also resolve against every import root."""
        queue: deque[tuple[str, tuple[str, ...]]] = deque((name, (base,)) for name, base in start)
        seen: set[str] = set()
        while queue:
            name, bases = queue.popleft()
            if name in seen or not name.endswith(".py"):
                continue
            seen.add(name)
            try:
                text = self.text(name)
            except ArchiveError:
                continue  # reported when the file itself is read for analysis
            here = posixpath.dirname(name)
            search = tuple(dict.fromkeys([*self.path_inserts(name, text), *bases, *roots]))
            for level, module, imported in _imports(text):
                if level:
                    base = here
                    for _ in range(level - 1):
                        base = posixpath.dirname(base)
                    candidates: tuple[str, ...] = (base,)
                else:
                    candidates = search
                targets = [module] if module else []
                targets += [f"{module}.{n}" if module else n for n in imported if n != "*"]
                for target in targets:
                    if not all(p.isidentifier() for p in target.split(".")):
                        continue
                    for base in candidates:
                        found = self._module_files(base, target)
                        for f in found:
                            self.add(f, ScriptKind.MODULE, stage)
                            queue.append((f, search))
                        if found:
                            break


def _runs_instead_of_source(p: _Picker, name: str) -> bool:
    """Whether Python would run this `.pyc` rather than a source the gate reads.

    Beside its package (not in `__pycache__`) a `.pyc` is imported when no `.py` of
    the same name is there. In `__pycache__` it is used only while it matches its
    source: a timestamp or checked-hash pyc (PEP 552) goes stale the moment pip
    writes the source with a new mtime, and pip compiles its own; an *unchecked*
    hash-based pyc (flags 0b01) is run without looking at the source at all.
    """
    folder, base = posixpath.split(name)
    if posixpath.basename(folder) != "__pycache__":
        return posixpath.join(folder, base.split(".")[0] + ".py") not in p.files
    header = p.tree.read(name)[:8]
    return len(header) == 8 and int.from_bytes(header[4:8], "little") == 0b01


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


def _import_roots(p: _Picker) -> list[str]:
    """Folders that become site-packages once installed: the sdist root, `src/`,
    a declared root `package_dir`, and a wheel's `.data/purelib|platlib/`."""
    roots = [p.root.rstrip("/"), p.root + "src"]
    _, folder = _setup_py_modules(p.setup_tree())
    tools = p.pyproject().get("tool")
    tool = tools.get("setuptools") if isinstance(tools, dict) else None
    dirs = tool.get("package-dir", {}) if isinstance(tool, dict) else {}
    for declared in (folder, dirs.get("", "") if isinstance(dirs, dict) else ""):
        if isinstance(declared, str) and declared:
            roots.append(posixpath.normpath(posixpath.join(p.root, declared)))
    for n in p.names:
        parts = n.split("/")
        if len(parts) > 2 and parts[0].endswith(".data") and parts[1] in ("purelib", "platlib"):
            roots.append("/".join(parts[:2]))
    return [r if r != "." else "" for r in dict.fromkeys(roots)]


def _declared_modules(p: _Picker) -> list[str]:
    """Single-file modules declared by `setup(py_modules=...)` or `[tool.setuptools]
    py-modules`: a distribution's import-time entry point, as `__init__.py` is."""
    names, folder = _setup_py_modules(p.setup_tree())
    declared = [(n, folder) for n in names]
    tools = p.pyproject().get("tool")
    tool = tools.get("setuptools") if isinstance(tools, dict) else None
    if isinstance(tool, dict):
        listed = tool.get("py-modules", [])
        dirs = tool.get("package-dir", {})
        where = dirs.get("", "") if isinstance(dirs, dict) else ""
        if isinstance(listed, list) and isinstance(where, str):
            declared += [(n, where) for n in listed if isinstance(n, str)]
    out = []
    for name, where in declared:
        if not name.isidentifier():
            continue
        base = posixpath.normpath(posixpath.join(p.root, where)) if where else p.root
        f = posixpath.join(base, name + ".py")
        p.refuse_link(f)
        if f in p.files:
            out.append(f)
    return out


def _top_level(p: _Picker, roots: list[str]) -> list[tuple[str, ScriptKind]]:
    """What `import <name>` reaches under each import root: packages' `__init__.py`
    and, in a wheel (where every top-level file is installed), single-file modules."""
    out = []
    wheel = not p.root
    for n in [*p.names, *p.links]:
        for base in roots:
            prefix = base + "/" if base else ""
            rest = n[len(prefix) :] if n.startswith(prefix) else None
            if rest is None:
                continue
            parts = rest.split("/")
            if len(parts) == 2 and parts[1] == "__init__.py":
                if parts[0].lower() in _SKIP_DIRS or not parts[0].isidentifier():
                    continue
                p.refuse_link(n)
                out.append((n, ScriptKind.INIT))
            elif wheel and len(parts) == 1 and rest.endswith(".py") and rest[:-3].isidentifier():
                out.append((n, ScriptKind.MODULE))
    return out


def _entry_point_files(p: _Picker, roots: list[str]) -> list[tuple[str, str]]:
    """The module files entry points name, and wheel `.data/scripts/` Python scripts."""
    out = []
    for ep in entry_points(p.files, p.text, p.root, p.setup_tree()):
        for base in roots:
            found = p._module_files(base, ep.module)
            if found:
                out += [(f, base) for f in found]
                break
    for n in p.names:
        parts = n.split("/")
        if len(parts) == 3 and parts[0].endswith(".data") and parts[1] == "scripts":
            try:
                head = p.text(n)[:200]
            except ArchiveError:
                continue
            if n.endswith(".py") or (head.startswith("#!") and "python" in head.split("\n")[0]):
                out.append((n, roots[0]))
    return out


def _installed(p: _Picker, name: str, roots: list[str]) -> bool:
    """Whether a Python file not picked at an earlier stage ends up installed.

    A wheel is installed whole. An sdist is built, and a build installs its
    packages (folders below an import root holding an `__init__.py`, at any
    depth, namespace packages included) and root-level modules (`py_modules`
    may be computed), not the sdist's own tests, docs or tooling folders:
    those never run on the user's machine unless some picked code runs them,
    which `_data_code` follows.
    """
    if not p.root:
        return True
    for base in roots:
        prefix = base + "/" if base else ""
        if not name.startswith(prefix):
            continue
        parts = name[len(prefix) :].split("/")
        if len(parts) == 1:
            return True  # a root-level module: perhaps a py_module the build installs
        if parts[0].lower() in _SKIP_DIRS or not parts[0].isidentifier():
            continue
        if prefix + parts[0] in p.package_folders:
            return True
    return False


def _is_code(text: str) -> bool:
    """Whether text is Python that does something when run (a call or an import).

    Unwrapped blobs (base64, zlib) are read whatever they hold; plain text is read
    as code only when it is, since a module with an `eval` somewhere that names a
    hundred templates is common in large packages and none of them is code.
    """
    if "(" not in text and "import" not in text:
        return False  # neither a call nor an import can be in it: no parse (JSON data parses)
    tree = parse(text)
    return tree is not None and any(
        isinstance(n, ast.Call | ast.Import | ast.ImportFrom) for n in ast.walk(tree)
    )


def _config_values(raw: bytes) -> tuple[str, str] | None:
    """An INI file's values as configparser hands them to code (each line stripped),
    one after another: the code an `exec(config[...][...])` would run. None when it
    is not INI; the caller then reads the bytes as they are."""
    import configparser

    parser = configparser.RawConfigParser(strict=False)
    try:
        parser.read_string(decode(raw))
    except (configparser.Error, UnicodeError):
        return None
    values = [
        value
        for section in parser.sections()
        for value in parser[section].values()
        if value is not None and _is_code(value)  # `exec` of "MIT" or "1.0" runs nothing
    ]
    return "\n\n".join(values), "config-values"


def _data_code(p: _Picker) -> None:
    """Data files a picked script reads and executes, decoded, at that script's stage.

    A marshal'd code object cannot be read statically: the package is refused
    (unscanned) rather than passed. Other undecodable data (a pickle of
    numbers, an image) is left out: it holds no code to read.
    """
    found = 0
    wanted: list[tuple[str, ScriptKind, Stage, list[str]]] = []
    for name, (kind, stage) in list(p.picked.items()):
        if not name.endswith(".py"):
            continue
        try:
            text = p.text(name)
        except ArchiveError:
            continue
        tree = p.setup_tree() if name == p.root + "setup.py" else None
        code, datas = data_code.code_data_files(text, tree, name, p.files)
        for py in code:
            p.add(py, ScriptKind.MODULE, stage)
        wanted.append((name, kind, stage, datas))
    p.tree.prefetch([d for *_, datas in wanted for d in datas])
    for name, kind, stage, datas in wanted:
        for data in datas:
            if data in p.picked or data in p.decoded:
                continue
            raw = p.tree.read(data)
            as_text = _config_values(raw) if data.endswith((".cfg", ".ini")) else None
            as_text = as_text or data_code.as_code(raw)
            if as_text is None and data_code.is_marshalled_code(raw):  # (text is never that)
                raise ArchiveError(
                    f"{data} is compiled (marshal'd) code that {name} can execute; "
                    "it cannot be read statically"
                )
            danger = data_code.dangerous_pickle_globals(raw)
            if danger:
                raise ArchiveError(
                    f"{data} is a pickle that calls {danger[0]} when {name} loads it"
                )
            if as_text is None:
                continue  # data (a pickle of plain values, an image): no code in it
            if as_text[1] in ("plain", "config-values") and not _is_code(as_text[0]):
                continue  # text `exec` would reject, or that calls nothing: a README, a table
            found += 1
            if found > MAX_DATA_CODE:
                raise ArchiveError(f"over {MAX_DATA_CODE} data files are read by code that execs")
            model_kind = ScriptKind.MODULE if kind is ScriptKind.INIT else kind
            p.picked[data] = (model_kind, stage)
            p.decoded[data] = as_text


def select(tree: Tree, mode: str = "all_files") -> tuple[Script, ...]:
    """Every file of a package that can run, setup.py first, each with its stage.

    `mode` is the seed's `file_search_mode`: `setup_only` reads only the
    top-level setup.py; `all_files` reads every Python file (module docstring).
    Raises ArchiveError when a file that runs cannot be read (a link, compiled
    code without source, a file over the archive's size cap).
    """
    p = _Picker(tree)
    setup = p.root + "setup.py"
    p.refuse_link(setup)
    if setup in p.files:
        p.add(setup, ScriptKind.SETUP, Stage.INSTALL)
    if mode != "setup_only":
        _select_all(p, setup)
    scripts = []
    for name, (kind, stage) in sorted(
        p.picked.items(), key=lambda item: (item[0] != setup, _STAGE_ORDER[item[1][1]])
    ):
        decoded = p.decoded.get(name)
        try:
            text = decoded[0] if decoded else p.text(name)
        except (ArchiveError, OSError, KeyError) as exc:
            raise ArchiveError(f"cannot read {name}: {exc}") from exc
        how = decoded[1] if decoded else None
        scripts.append(Script(path=name, kind=kind, text=text, stage=stage, decoded_as=how))
    return tuple(scripts)


def _select_all(p: _Picker, setup: str) -> None:
    roots = _import_roots(p)
    if not p.root:  # a wheel: pip installs its compiled files as they are
        for n in p.names:
            if n.endswith(_COMPILED) and _runs_instead_of_source(p, n):
                raise ArchiveError(
                    f"{n} is compiled Python in the wheel that can run in place of its "
                    "source; it cannot be read statically"
                )
    # install: setup.py and backends, then what they import
    backends = _backend_files(p)
    for f, _ in backends:
        p.add(f, ScriptKind.BACKEND, Stage.INSTALL)
    install_start = [(f, folder) for f, folder in backends]
    if setup in p.picked:
        install_start.append((setup, p.root.rstrip("/")))
    p.closure(install_start, Stage.INSTALL, [p.root.rstrip("/")])
    # startup: every .pth, and what its import lines import
    for n in [*p.names, *p.links]:
        if n.endswith(".pth"):
            p.refuse_link(n)
            p.add(n, ScriptKind.PTH, Stage.STARTUP)
    pths = [n for n, (kind, _) in p.picked.items() if kind is ScriptKind.PTH]
    # startup modules: what the .pth files import, and the two top-level modules `site`
    # imports at every interpreter start wherever they lie on sys.path
    startup = list(_SITE_HOOKS)
    for n in pths:
        try:
            lines = [ln for ln in p.text(n).splitlines() if ln.startswith(("import ", "import\t"))]
        except ArchiveError:
            continue
        startup += [
            m.strip().split(" as ")[0].strip()
            for ln in lines
            for m in ln[6:].split(";")[0].split(",")
        ]
    for mod in startup:
        for base in roots:
            found = p._module_files(base, mod)
            for f in found:
                p.add(f, ScriptKind.MODULE, Stage.STARTUP)
            p.closure([(f, base) for f in found], Stage.STARTUP, roots)
    # import: top-level packages and modules, declared py_modules, and their closure
    tops = _top_level(p, roots)
    for f, kind in tops:
        if p.picked.get(f, (None,))[0] is ScriptKind.MODULE and kind is ScriptKind.INIT:
            p.picked[f] = (ScriptKind.INIT, p.picked[f][1])  # setup.py imported it first
        p.add(f, kind, Stage.IMPORT)
    declared = _declared_modules(p)
    for f in declared:
        p.add(f, ScriptKind.MODULE, Stage.IMPORT)
    p.closure(
        [(f, roots[0]) for f, _ in tops] + [(f, roots[0]) for f in declared], Stage.IMPORT, roots
    )
    # entry points
    eps = _entry_point_files(p, roots)
    for f, _ in eps:
        p.add(f, ScriptKind.MODULE, Stage.ENTRY_POINT)
    p.closure(eps, Stage.ENTRY_POINT, roots)
    # data files handed to exec, at the stage of the code that reads them
    _data_code(p)
    # call: every other Python file that gets installed
    for n in p.names:
        if n.endswith(".py") and _installed(p, n, roots):
            p.add(n, ScriptKind.MODULE, Stage.CALL)
    for n in p.links:
        if n.endswith(".py"):
            p.refuse_link(n)
