"""Entry points read from every declaring file (mphunter_gate.select.entry_points).

Each package is a dict of texts written here; `read` serves them as the
gate's `Tree` would, and setup.py is only ever `ast.parse`d.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from mphunter_gate.errors import ArchiveError
from mphunter_gate.select.entry_points import EntryPoint, entry_points

ROOT = "demo-1.0/"


def _reader(files: dict[str, str]) -> Callable[[str], str]:
    return lambda name: files[name]


def _eps(files: dict[str, str], root: str = ROOT) -> list[EntryPoint]:
    setup = files.get(root + "setup.py")
    tree = ast.parse(setup) if setup is not None else None
    return entry_points(set(files), _reader(files), root, tree)


def _triples(eps: list[EntryPoint]) -> set[tuple[str, str, str]]:
    return {(e.group, e.name, e.module) for e in eps}


def test_setup_py_literal_dict_of_lists_and_tuples() -> None:
    setup = (
        "from setuptools import setup\n"
        "setup(\n"
        "    name='demo',\n"
        "    scripts=['bin/run-demo'],\n"
        "    entry_points={\n"
        "        'console_scripts': ['demo = demo.cli:main', 'demo-x=demo.x:run [extra]'],\n"
        "        'gui_scripts': ('demo-gui = demo.gui:main',),\n"
        "        'pytest11': 'demo_plugin = demo.plugin',\n"
        "        'console_scripts_bad': ['broken = not a module:main', 'no-equals-sign'],\n"
        "    },\n"
        ")\n"
    )
    eps = _eps({ROOT + "setup.py": setup, ROOT + "bin/run-demo": "#!/bin/sh\n"})
    assert _triples(eps) == {
        ("console_scripts", "demo", "demo.cli"),
        ("console_scripts", "demo-x", "demo.x"),
        ("gui_scripts", "demo-gui", "demo.gui"),
        ("pytest11", "demo_plugin", "demo.plugin"),
    }
    assert {e.declared_in for e in eps} == {ROOT + "setup.py"}


def test_setup_py_ini_string() -> None:
    setup = (
        "from setuptools import setup\n"
        "setup(entry_points='''\n"
        "    [console_scripts]\n"
        "    demo = demo.cli:main\n"
        "    # a comment\n"
        "    [Demo.Plugins]\n"
        "    Thing = demo.things:Thing\n"
        "''')\n"
    )
    assert _triples(_eps({ROOT + "setup.py": setup})) == {
        ("console_scripts", "demo", "demo.cli"),
        ("Demo.Plugins", "Thing", "demo.things"),
    }


def test_setup_py_dict_passed_by_name_and_through_kwargs() -> None:
    setup = (
        "from setuptools import setup\n"
        "SCRIPTS = ['demo = demo.cli:main']\n"
        "ENTRY_POINTS = {'console_scripts': SCRIPTS}\n"
        "meta = dict(entry_points={'pytest11': ['p = demo.plug']})\n"
        "setup(entry_points=ENTRY_POINTS, **meta)\n"
    )
    assert _triples(_eps({ROOT + "setup.py": setup})) == {
        ("console_scripts", "demo", "demo.cli"),
        ("pytest11", "p", "demo.plug"),
    }


def test_setup_py_name_assigned_twice_is_not_followed() -> None:
    setup = (
        "from setuptools import setup\n"
        "EPS = {'console_scripts': ['a = demo.a:main']}\n"
        "EPS = {'console_scripts': ['b = demo.b:main']}\n"
        "setup(entry_points=EPS)\n"
    )
    assert _eps({ROOT + "setup.py": setup}) == []


def test_setup_py_absent_or_unparsable_reads_the_other_sources() -> None:
    files = {
        ROOT + "setup.py": "print 'py2'\n",
        ROOT + "setup.cfg": "[options.entry_points]\nconsole_scripts =\n    demo = demo.cli:main\n",
    }
    eps = entry_points(set(files), _reader(files), ROOT, None)
    assert eps == [EntryPoint("console_scripts", "demo", "demo.cli", ROOT + "setup.cfg")]


def test_setup_cfg_setuptools_pbr_and_file_indirection() -> None:
    cfg = (
        "[metadata]\nname = demo\n"
        "[options]\nentry_points = file: eps.cfg\n"
        "[options.entry_points]\n"
        "console_scripts =\n    demo = demo.cli:main\n    Demo-Upper = demo.Upper:main\n"
        "pytest11 =\n    demo = demo.plugin\n"
        "[entry_points]\n"  # pbr's spelling
        "console_scripts =\n    pbr-demo = demo.pbr:main\n"
    )
    files = {
        ROOT + "setup.cfg": cfg,
        ROOT + "eps.cfg": "[console_scripts]\nfrom-file = demo.fromfile:main\n",
    }
    eps = _eps(files)
    assert _triples(eps) == {
        ("console_scripts", "demo", "demo.cli"),
        ("console_scripts", "Demo-Upper", "demo.Upper"),
        ("pytest11", "demo", "demo.plugin"),
        ("console_scripts", "pbr-demo", "demo.pbr"),
        ("console_scripts", "from-file", "demo.fromfile"),
    }
    assert {e.declared_in for e in eps if e.name == "from-file"} == {ROOT + "eps.cfg"}


def test_bad_setup_cfg_and_pyproject_are_tolerated() -> None:
    files = {
        ROOT + "setup.cfg": "no section header\n[[[",
        ROOT + "pyproject.toml": "[project\nscripts = ",
        ROOT + "demo.egg-info/entry_points.txt": "[console_scripts]\ndemo = demo.cli:main\n",
    }
    assert _triples(_eps(files)) == {("console_scripts", "demo", "demo.cli")}


def test_pyproject_pep621_poetry_and_flit() -> None:
    toml = (
        "[project.scripts]\ndemo = 'demo.cli:main'\n"
        "[project.gui-scripts]\ndemo-gui = 'demo.gui:main'\n"
        "[project.entry-points.pytest11]\nplug = 'demo.plug'\n"
        "[project.entry-points.'demo.hooks']\nhook = 'demo.hooks:hook [extra]'\n"
        "[tool.poetry.scripts]\n"
        "p-str = 'demo.pstr:main'\n"
        "p-callable = { callable = 'demo.pcall:main' }\n"
        "p-ref = { reference = 'demo.pref:main', type = 'console' }\n"
        "p-file = { reference = 'bin/tool.sh', type = 'file' }\n"
        "[tool.poetry.plugins.'poetry.plugin']\npp = 'demo.poetry_plugin:P'\n"
        "[tool.flit.scripts]\nflit-demo = 'demo.flit:main'\n"
    )
    eps = _eps({ROOT + "pyproject.toml": toml})
    assert _triples(eps) == {
        ("console_scripts", "demo", "demo.cli"),
        ("gui_scripts", "demo-gui", "demo.gui"),
        ("pytest11", "plug", "demo.plug"),
        ("demo.hooks", "hook", "demo.hooks"),
        ("console_scripts", "p-str", "demo.pstr"),
        ("console_scripts", "p-callable", "demo.pcall"),
        ("console_scripts", "p-ref", "demo.pref"),
        ("poetry.plugin", "pp", "demo.poetry_plugin"),
        ("console_scripts", "flit-demo", "demo.flit"),
    }
    assert {e.declared_in for e in eps} == {ROOT + "pyproject.toml"}


def test_wheel_dist_info_entry_points_txt() -> None:
    files = {
        "demo/__init__.py": "",
        "demo/cli.py": "def main(): pass\n",
        "demo-1.0.dist-info/entry_points.txt": (
            "[console_scripts]\ndemo = demo.cli:main\n\n[pytest11]\nplug = demo.plug\n"
        ),
        "demo/data/entry_points.txt": "[console_scripts]\nnot-metadata = demo.nope:main\n",
    }
    eps = entry_points(set(files), _reader(files), "", None)
    assert eps == [
        EntryPoint("console_scripts", "demo", "demo.cli", "demo-1.0.dist-info/entry_points.txt"),
        EntryPoint("pytest11", "plug", "demo.plug", "demo-1.0.dist-info/entry_points.txt"),
    ]


def test_same_entry_point_in_two_sources_is_kept_once() -> None:
    files = {
        ROOT + "setup.cfg": "[options.entry_points]\nconsole_scripts =\n    demo = demo.cli:main\n",
        ROOT + "demo.egg-info/entry_points.txt": "[console_scripts]\ndemo = demo.cli:main\n",
    }
    assert _eps(files) == [EntryPoint("console_scripts", "demo", "demo.cli", ROOT + "setup.cfg")]


def test_unreadable_source_is_skipped() -> None:
    files = {
        ROOT + "setup.cfg": "[options.entry_points]\nconsole_scripts =\n    a = demo.a:main\n",
        ROOT + "pyproject.toml": "[project.scripts]\nb = 'demo.b:main'\n",
    }

    def read(name: str) -> str:
        if name.endswith("setup.cfg"):
            raise ArchiveError("cannot read")
        return files[name]

    assert _triples(entry_points(set(files), read, ROOT, None)) == {
        ("console_scripts", "b", "demo.b")
    }


def test_no_entry_points() -> None:
    files = {ROOT + "setup.py": "from setuptools import setup\nsetup(name='demo')\n"}
    assert _eps(files) == []
