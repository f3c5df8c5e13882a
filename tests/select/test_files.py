"""Which files of a package run at install or import time (mphunter_gate.select.files).

Packages are fixture sdists and wheels assembled from texts written here
(conftest's make_sdist/make_wheel) and read through archive.open_tree, the
same way the gate reads a download.
"""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from mphunter_gate import select as selection
from mphunter_gate.errors import ArchiveError
from mphunter_gate.fetch.archive import DirTree, Tree, open_tree
from mphunter_gate.types import ScriptKind, Stage
from tests.conftest import make_sdist, make_wheel

SETUP = "from setuptools import setup\nsetup(name='demo')\n"


def _sdist(tmp_path: Path, files: dict[str, str | bytes], name: str = "demo") -> Tree:
    path = make_sdist(tmp_path, name, "1.0", files)
    return open_tree(path.read_bytes(), path.name)


def _picked(tree: Tree, mode: str = "all_files") -> dict[str, ScriptKind]:
    return {s.path: s.kind for s in selection.select(tree, mode)}


def _stages(tree: Tree) -> dict[str, Stage]:
    return {s.path: s.stage for s in selection.select(tree) if s.stage is not None}


def test_setup_py_first_then_package_init_and_imported_modules(tmp_path: Path) -> None:
    tree = _sdist(
        tmp_path,
        {
            "setup.py": SETUP,
            "demo/__init__.py": "from .core import run\nfrom demo import helpers\nimport os\n",
            "demo/core.py": "def run(): pass\n",
            "demo/helpers.py": "X = 1\n",
            "demo/unused.py": "Y = 2\n",
        },
    )
    scripts = selection.select(tree)
    assert [(s.path, s.kind, s.stage) for s in scripts] == [
        ("demo-1.0/setup.py", ScriptKind.SETUP, Stage.INSTALL),
        ("demo-1.0/demo/__init__.py", ScriptKind.INIT, Stage.IMPORT),
        ("demo-1.0/demo/core.py", ScriptKind.MODULE, Stage.IMPORT),
        ("demo-1.0/demo/helpers.py", ScriptKind.MODULE, Stage.IMPORT),
        ("demo-1.0/demo/unused.py", ScriptKind.MODULE, Stage.CALL),  # read all the same
    ]
    assert scripts[0].text == SETUP


def test_relative_from_import_of_submodule_and_subpackage(tmp_path: Path) -> None:
    tree = _sdist(
        tmp_path,
        {
            "demo/__init__.py": "from . import payload\nfrom .sub import thing\n",
            "demo/payload.py": "import base64\n",
            "demo/sub/__init__.py": "",
            "demo/sub/thing.py": "Z = 3\n",
        },
    )
    picked = _picked(tree)
    assert picked == {
        "demo-1.0/demo/__init__.py": ScriptKind.INIT,
        "demo-1.0/demo/payload.py": ScriptKind.MODULE,
        "demo-1.0/demo/sub/__init__.py": ScriptKind.MODULE,
        "demo-1.0/demo/sub/thing.py": ScriptKind.MODULE,
    }


def test_dynamic_import_with_literal_name_is_followed(tmp_path: Path) -> None:
    tree = _sdist(
        tmp_path,
        {
            "demo/__init__.py": "import importlib\nimportlib.import_module('demo._impl')\n",
            "demo/_impl.py": "import socket\n",
        },
    )
    assert "demo-1.0/demo/_impl.py" in _picked(tree)


def test_py2_init_is_followed_by_the_regex_fallback(tmp_path: Path) -> None:
    tree = _sdist(
        tmp_path,
        {
            "demo/__init__.py": "print 'hello'\nfrom demo.compat import x\n",
            "demo/compat.py": "x = 1\n",
        },
    )
    assert "demo-1.0/demo/compat.py" in _picked(tree)


def test_setup_py_local_helper_import_is_followed(tmp_path: Path) -> None:
    tree = _sdist(
        tmp_path,
        {
            "setup.py": "import _build_helpers\nfrom setuptools import setup\nsetup()\n",
            "_build_helpers.py": "import subprocess\n",
        },
    )
    assert _picked(tree) == {
        "demo-1.0/setup.py": ScriptKind.SETUP,
        "demo-1.0/_build_helpers.py": ScriptKind.MODULE,
    }


def test_package_init_imported_by_setup_py_is_still_an_init(tmp_path: Path) -> None:
    tree = _sdist(
        tmp_path,
        {"setup.py": "from demo import __version__\n", "demo/__init__.py": "__version__ = '1'\n"},
    )
    assert _picked(tree)["demo-1.0/demo/__init__.py"] is ScriptKind.INIT


def test_src_layout(tmp_path: Path) -> None:
    tree = _sdist(
        tmp_path,
        {
            "setup.py": SETUP,
            "src/demo/__init__.py": "from demo.net import beacon\n",
            "src/demo/net.py": "def beacon(): pass\n",
        },
    )
    assert _picked(tree) == {
        "demo-1.0/setup.py": ScriptKind.SETUP,
        "demo-1.0/src/demo/__init__.py": ScriptKind.INIT,
        "demo-1.0/src/demo/net.py": ScriptKind.MODULE,
    }


def test_pth_file_is_picked(tmp_path: Path) -> None:
    tree = _sdist(
        tmp_path,
        {"setup.py": SETUP, "demo_hook.pth": "import os; os.system('true')\n"},
    )
    assert _picked(tree)["demo-1.0/demo_hook.pth"] is ScriptKind.PTH


def test_in_tree_backend_via_backend_path(tmp_path: Path) -> None:
    pyproject = (
        "[build-system]\nrequires = []\n"
        'build-backend = "backend"\nbackend-path = ["_custom_build"]\n'
    )
    tree = _sdist(
        tmp_path,
        {
            "pyproject.toml": pyproject,
            "_custom_build/backend.py": "from _helper import go\n",
            "_custom_build/_helper.py": "def go(): pass\n",
        },
    )
    assert _picked(tree) == {
        "demo-1.0/_custom_build/backend.py": ScriptKind.BACKEND,
        "demo-1.0/_custom_build/_helper.py": ScriptKind.MODULE,
    }


def test_in_tree_backend_in_an_unpacked_folder(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[build-system]\nbuild-backend = "build_me:api"\nbackend-path = ["."]\n'
    )
    (tmp_path / "build_me.py").write_text("api = None\n")
    assert _picked(DirTree(tmp_path)) == {"build_me.py": ScriptKind.BACKEND}


@pytest.mark.parametrize(
    "pyproject",
    [
        '[build-system]\nbuild-backend = "setuptools.build_meta"\n',  # standard backend
        "build-system = 1\n",
        "[build-system\n",  # not TOML
    ],
)
def test_no_in_tree_backend(tmp_path: Path, pyproject: str) -> None:
    tree = _sdist(tmp_path, {"pyproject.toml": pyproject, "setuptools/build_meta.py": "x\n"})
    assert selection.select(tree) == ()  # setuptools/ holds no package: not installed


def test_an_sdists_tests_and_docs_are_not_installed_so_not_read(tmp_path: Path) -> None:
    tree = _sdist(
        tmp_path,
        {
            "setup.py": SETUP,
            "tests/__init__.py": "import demo\n",
            "docs/__init__.py": "",
            "examples/__init__.py": "",
            "demo/__init__.py": "",
        },
    )
    assert _stages(tree) == {
        "demo-1.0/setup.py": Stage.INSTALL,
        "demo-1.0/demo/__init__.py": Stage.IMPORT,
    }


def test_a_wheels_tests_are_installed_so_read(tmp_path: Path) -> None:
    path = make_wheel(tmp_path, "demo", "1.0", {"demo/__init__.py": "", "tests/__init__.py": ""})
    assert _stages(open_tree(path.read_bytes(), path.name)) == {
        "demo/__init__.py": Stage.IMPORT,
        "tests/__init__.py": Stage.CALL,
    }


def test_wheel_layout_has_no_root_folder(tmp_path: Path) -> None:
    path = make_wheel(
        tmp_path,
        "demo",
        "1.0",
        {"demo/__init__.py": "from ._c import f\n", "demo/_c.py": "def f(): pass\n"},
    )
    tree = open_tree(path.read_bytes(), path.name)
    assert _picked(tree) == {
        "demo/__init__.py": ScriptKind.INIT,
        "demo/_c.py": ScriptKind.MODULE,
    }


def test_folder_holding_a_single_package_is_not_an_sdist_root(tmp_path: Path) -> None:
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "__init__.py").write_text("from . import x\n")
    (tmp_path / "demo" / "x.py").write_text("")
    assert _picked(DirTree(tmp_path)) == {
        "demo/__init__.py": ScriptKind.INIT,
        "demo/x.py": ScriptKind.MODULE,
    }


def test_setup_only_mode(tmp_path: Path) -> None:
    tree = _sdist(
        tmp_path,
        {"setup.py": SETUP, "demo/__init__.py": "", "x.pth": "import os\n"},
    )
    assert _picked(tree, "setup_only") == {"demo-1.0/setup.py": ScriptKind.SETUP}


def test_nothing_to_scan(tmp_path: Path) -> None:
    tree = _sdist(tmp_path, {"README.md": "hi\n", "pyproject.toml": "[project]\nname='demo'\n"})
    assert selection.select(tree) == ()


def test_the_import_closure_has_no_depth_or_count_limit(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {
        f"demo/m{i}.py": f"from . import m{i + 1}\n" for i in range(40)
    }
    files["demo/__init__.py"] = "from . import m0\n"
    files["demo/m40.py"] = "import socket\n"
    stages = _stages(_sdist(tmp_path, files))
    assert len(stages) == 42 and set(stages.values()) == {Stage.IMPORT}


def test_non_utf8_setup_is_decoded(tmp_path: Path) -> None:
    tree = _sdist(tmp_path, {"setup.py": b"# Ren\xe9\nfrom setuptools import setup\n"})
    (script,) = selection.select(tree)
    assert script.text.startswith("# René")


def _tar_gz(members: list[tarfile.TarInfo | tuple[str, str]]) -> Tree:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for m in members:
            if isinstance(m, tarfile.TarInfo):
                tar.addfile(m)
            else:
                data = m[1].encode()
                ti = tarfile.TarInfo(m[0])
                ti.size = len(data)
                tar.addfile(ti, io.BytesIO(data))
    return open_tree(buf.getvalue(), "demo-1.0.tar.gz")


def _link(name: str, target: str) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.type = tarfile.SYMTYPE
    ti.linkname = target
    return ti


@pytest.mark.parametrize(
    "link",
    [
        "demo-1.0/setup.py",
        "demo-1.0/demo/__init__.py",
        "demo-1.0/evil.pth",
        "demo-1.0/pyproject.toml",
    ],
)
def test_install_time_file_that_is_a_link_makes_the_package_unreadable(link: str) -> None:
    tree = _tar_gz(
        [
            ("demo-1.0/PKG-INFO", "Metadata-Version: 2.1\n"),
            ("demo-1.0/innocent.txt", "import os\n"),
            _link(link, "../../outside.txt"),  # leaves the package: pip refuses, never read
        ]
    )
    with pytest.raises(ArchiveError, match="link"):
        selection.select(tree)


def test_a_link_inside_the_package_is_read_as_the_file_it_names() -> None:
    """pip writes the link; running setup.py then runs the target's bytes."""
    tree = _tar_gz([("demo-1.0/real.py", "import socket\n"), _link("demo-1.0/setup.py", "real.py")])
    scripts = {s.path: s for s in selection.select(tree)}
    assert scripts["demo-1.0/setup.py"].text == "import socket\n"
    assert scripts["demo-1.0/setup.py"].stage is Stage.INSTALL


def test_link_elsewhere_is_harmless() -> None:
    tree = _tar_gz(
        [
            ("demo-1.0/setup.py", SETUP),
            _link("demo-1.0/LICENSE", "/etc/passwd"),
        ]
    )
    assert _picked(tree) == {"demo-1.0/setup.py": ScriptKind.SETUP}


def test_declared_py_modules_are_import_time_entry_points(tmp_path: Path) -> None:
    setup = (
        "from setuptools import setup\n"
        "setup(name='demo', py_modules=['demo', 'helper'], package_dir={'': 'src'})\n"
    )
    tree = _sdist(
        tmp_path,
        {
            "setup.py": setup,
            "src/demo.py": "from helper import beacon\n",
            "src/helper.py": "def beacon(): pass\n",
            "src/unrelated.py": "x = 1\n",
            "conftest.py": "import os\n",
        },
    )
    assert _stages(tree) == {
        "demo-1.0/setup.py": Stage.INSTALL,
        "demo-1.0/src/demo.py": Stage.IMPORT,
        "demo-1.0/src/helper.py": Stage.IMPORT,
        "demo-1.0/src/unrelated.py": Stage.CALL,  # perhaps a computed py_module
        "demo-1.0/conftest.py": Stage.CALL,
    }


def test_py_modules_from_pyproject_setuptools_table(tmp_path: Path) -> None:
    pyproject = '[tool.setuptools]\npy-modules = ["demo"]\n'
    tree = _sdist(tmp_path, {"pyproject.toml": pyproject, "demo.py": "import os\n"})
    assert _picked(tree) == {"demo-1.0/demo.py": ScriptKind.MODULE}


def test_py_modules_that_are_not_literals_are_not_guessed(tmp_path: Path) -> None:
    setup = "from setuptools import setup\nMODS = find()\nsetup(name='demo', py_modules=MODS)\n"
    tree = _sdist(tmp_path, {"setup.py": setup, "demo.py": "import os\n"})
    assert _stages(tree) == {"demo-1.0/setup.py": Stage.INSTALL, "demo-1.0/demo.py": Stage.CALL}


def test_a_console_script_target_runs_at_entry_point(tmp_path: Path) -> None:
    tree = _sdist(
        tmp_path,
        {
            "setup.py": SETUP,
            "setup.cfg": "[options.entry_points]\nconsole_scripts =\n    demo = demo.cli:main\n",
            "demo/__init__.py": "",
            "demo/cli.py": "from demo import _run\ndef main(): _run.go()\n",
            "demo/_run.py": "def go(): pass\n",
        },
    )
    stages = _stages(tree)
    assert stages["demo-1.0/demo/cli.py"] is Stage.ENTRY_POINT
    assert stages["demo-1.0/demo/_run.py"] is Stage.ENTRY_POINT


def test_a_wheels_entry_points_txt_and_data_folders(tmp_path: Path) -> None:
    path = make_wheel(
        tmp_path,
        "demo",
        "1.0",
        {
            "demo/__init__.py": "",
            "demo/tool.py": "def main(): pass\n",
            "demo-1.0.dist-info/entry_points.txt": "[console_scripts]\ndemo = demo.tool:main\n",
            "demo-1.0.data/purelib/hidden.pth": "import hidden_mod\n",
            "demo-1.0.data/purelib/hidden_mod.py": "import os\n",
            "demo-1.0.data/scripts/demo-run": "#!python\nimport demo.tool\n",
        },
    )
    stages = _stages(open_tree(path.read_bytes(), path.name))
    assert stages["demo/tool.py"] is Stage.ENTRY_POINT
    assert stages["demo-1.0.data/purelib/hidden.pth"] is Stage.STARTUP
    assert stages["demo-1.0.data/purelib/hidden_mod.py"] is Stage.STARTUP
    assert stages["demo-1.0.data/scripts/demo-run"] is Stage.ENTRY_POINT


def test_a_helper_setup_py_imports_after_sys_path_insert(tmp_path: Path) -> None:
    setup = (
        "import os, sys\n"
        "sys.path.insert(0, os.path.join(os.path.dirname(__file__), 'buildtools'))\n"
        "import prepare\nfrom setuptools import setup\nsetup()\n"
    )
    tree = _sdist(tmp_path, {"setup.py": setup, "buildtools/prepare.py": "import socket\n"})
    assert _stages(tree)["demo-1.0/buildtools/prepare.py"] is Stage.INSTALL


def test_importing_a_submodule_runs_its_parent_packages(tmp_path: Path) -> None:
    tree = _sdist(
        tmp_path,
        {
            "demo/__init__.py": "import demo.a.b.c\n",
            "demo/a/__init__.py": "",
            "demo/a/b/__init__.py": "import os\n",
            "demo/a/b/c.py": "",
        },
    )
    assert set(_stages(tree).values()) == {Stage.IMPORT}


def test_a_data_file_handed_to_exec_is_read_as_code_at_its_readers_stage(tmp_path: Path) -> None:
    import base64
    import zlib

    blob = base64.b64encode(zlib.compress(b"import socket\nsocket.create_connection(('x', 1))\n"))
    tree = _sdist(
        tmp_path,
        {
            "demo/__init__.py": (
                "import os, zlib, base64\n"
                "here = os.path.dirname(__file__)\n"
                "path = os.path.join(here, 'blob.dat')\n"
                "exec(zlib.decompress(base64.b64decode(open(path).read())))\n"
            ),
            "demo/blob.dat": blob,
            "demo/README.txt": "not code\n",
        },
    )
    scripts = {s.path: s for s in selection.select(tree)}
    data = scripts["demo-1.0/demo/blob.dat"]
    assert data.stage is Stage.IMPORT and data.decoded_as == "base64+zlib"
    assert "socket.create_connection" in data.text
    assert "demo-1.0/demo/README.txt" not in scripts


def test_a_setup_cfg_value_execd_by_setup_py_is_read(tmp_path: Path) -> None:
    setup = (
        "import configparser\nc = configparser.ConfigParser()\nc.read('setup.cfg')\n"
        "exec(c['x']['y'])\n"
    )
    tree = _sdist(tmp_path, {"setup.py": setup, "setup.cfg": "[x]\ny = import os\n"})
    cfg = {s.path: s for s in selection.select(tree)}["demo-1.0/setup.cfg"]
    assert cfg.stage is Stage.INSTALL and cfg.kind is ScriptKind.SETUP


def test_marshalled_code_handed_to_exec_cannot_pass(tmp_path: Path) -> None:
    import marshal

    code = marshal.dumps(compile("x = 1", "<fixture>", "exec"))  # compiled, never run
    tree = _sdist(
        tmp_path,
        {
            "demo/__init__.py": "import marshal\nexec(marshal.loads(open('c.bin', 'rb').read()))\n",
            "demo/c.bin": code,
        },
    )
    with pytest.raises(ArchiveError, match="marshal"):
        selection.select(tree)


@pytest.mark.parametrize(
    ("name", "flags", "refused"),
    [
        ("demo/_x.pyc", 0, True),  # sourceless: imported as it is
        ("demo/__pycache__/__init__.cpython-311.pyc", 0b01, True),  # unchecked hash
        ("demo/__pycache__/__init__.cpython-311.pyc", 0b11, False),  # checked against source
        ("demo/__pycache__/__init__.cpython-311.opt-1.pyc", 0, False),  # timestamp: goes stale
    ],
)
def test_compiled_python_in_a_wheel_cannot_pass_where_it_runs_instead_of_source(
    tmp_path: Path, name: str, flags: int, refused: bool
) -> None:
    import struct

    pyc = b"\xa7\r\r\n" + struct.pack("<I", flags) + b"\0" * 8 + b"\xe3"  # header only
    path = make_wheel(tmp_path, "demo", "1.0", {"demo/__init__.py": ""})
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr(name, pyc)
    tree = open_tree(path.read_bytes(), path.name)
    if refused:
        with pytest.raises(ArchiveError, match="compiled"):
            selection.select(tree)
    else:
        assert "demo/__init__.py" in _stages(tree)


def test_a_py_file_setup_py_execs_is_read_though_nothing_installs_it(tmp_path: Path) -> None:
    setup = "exec(open('tools/stage2.py').read())\nfrom setuptools import setup\nsetup()\n"
    tree = _sdist(tmp_path, {"setup.py": setup, "tools/stage2.py": "import socket\n"})
    assert _stages(tree)["demo-1.0/tools/stage2.py"] is Stage.INSTALL


def test_a_pickle_that_runs_a_command_when_loaded_cannot_pass(tmp_path: Path) -> None:
    import pickle

    class _Run:
        def __reduce__(self):  # type: ignore[no-untyped-def]
            import os

            return (os.system, ("true",))

    tree = _sdist(
        tmp_path,
        {
            "demo/__init__.py": "import pickle\nDATA = pickle.load(open('table.pkl', 'rb'))\n",
            "demo/table.pkl": pickle.dumps(_Run(), protocol=4),  # dumped, never loaded
        },
    )
    with pytest.raises(ArchiveError, match="pickle that calls"):
        selection.select(tree)


def test_many_plain_data_files_read_by_pickle_are_data(tmp_path: Path) -> None:
    import pickle

    files: dict[str, str | bytes] = {
        f"demo/locale/l{i}.dat": pickle.dumps({"n": i}, protocol=4) for i in range(100)
    }
    files["demo/__init__.py"] = (
        "import pickle, os\ndef load(n):\n"
        "    return pickle.load(open(os.path.join('locale', n + '.dat'), 'rb'))\n"
    )
    assert set(_stages(_sdist(tmp_path, files)).values()) == {Stage.IMPORT}


def test_sitecustomize_runs_at_every_interpreter_start(tmp_path: Path) -> None:
    path = make_wheel(
        tmp_path,
        "demo",
        "1.0",
        {
            "demo/__init__.py": "",
            "sitecustomize.py": "import _demo_boot\n",
            "_demo_boot.py": "import os\n",
            "usercustomize.py": "",
        },
    )
    stages = _stages(open_tree(path.read_bytes(), path.name))
    assert stages["sitecustomize.py"] is Stage.STARTUP
    assert stages["usercustomize.py"] is Stage.STARTUP
    assert stages["_demo_boot.py"] is Stage.STARTUP
    assert stages["demo/__init__.py"] is Stage.IMPORT


def test_a_nested_sitecustomize_is_not_a_startup_hook(tmp_path: Path) -> None:
    path = make_wheel(
        tmp_path,
        "demo",
        "1.0",
        {"demo/__init__.py": "from . import sitecustomize\n", "demo/sitecustomize.py": ""},
    )
    stages = _stages(open_tree(path.read_bytes(), path.name))
    assert stages["demo/sitecustomize.py"] is Stage.IMPORT
