"""Behaviour features on fixture scripts written for these tests.

Each category has a positive script (does the thing) and a negative one
(similar-looking code that does not), run through the real analysis stage,
so a rename in what the analysis emits or a wrong pattern in
behaviours.toml fails here.
"""

from __future__ import annotations

import pytest

from mphunter_gate.analysis import analyse
from mphunter_gate.analysis.categories import load_rules, parse_rules
from mphunter_gate.model.behaviour import behaviour, feature_names, token_analysis
from mphunter_gate.types import Script, ScriptKind, Stage


def _fired(text: str, kind: ScriptKind = ScriptKind.SETUP, path: str = "setup.py") -> set[str]:
    return set(behaviour(analyse(Script(path, kind, text))).fired)


NEGATIVE_BASE = (
    "import os\nfrom setuptools import setup\nsetup(name='x', version=os.path.join('a','b'))\n"
)

CASES = {
    "process": (
        "import subprocess as sp\nsp.Popen(['sh', '-c', 'id'])\n",
        "import os\nos.path.exists('x')\n",
    ),
    "network": (
        "from urllib.request import urlopen\nurlopen('http://example.invalid/x').read()\n",
        "from urllib.parse import quote\nquote('a b')\n",
    ),
    "dynamic_code": (
        "code = open('x').read()\nexec(code)\n",
        "code = open('x').read()\nprint(code)\n",
    ),
    "decode": (
        "import base64\ndata = base64.b64decode(open('x').read())\n",
        "import base64\ndata = base64.b64encode(b'abc')\n",
    ),
    "crypto": (
        "from cryptography.fernet import Fernet\nFernet(b'k').decrypt(b'token')\n",
        "import hashlib\nhashlib.sha256(b'x').hexdigest()\n",
    ),
    "recon": (
        "import socket, getpass\nsocket.gethostname()\ngetpass.getuser()\n",
        "import sys\nsys.version_info\nprint(sys.platform)\n",
    ),
    "environment": (
        "import os\ntoken = os.getenv('CI_TOKEN')\n",
        "import os\nos.getcwd()\n",
    ),
    "file_write": (
        "import shutil\nshutil.copy('a', 'b')\n",
        "import shutil\nshutil.which('a')\n",
    ),
    "file_delete": (
        "import os\nos.remove('a')\n",
        "import os\nos.stat('a')\n",
    ),
    "filesystem_walk": (
        "import os\nfor root, dirs, files in os.walk('/'):\n    pass\n",
        "import os\nos.path.isdir('/')\n",
    ),
    "user_paths": (
        "import os\nhome = os.path.expanduser('~')\n",
        "import os\nhere = os.path.abspath('.')\n",
    ),
    "persistence": (
        "import winreg\nkey = winreg.OpenKey(winreg.HKEY_CURRENT_USER, 'Run')\n",
        "import configparser\nconfigparser.ConfigParser()\n",
    ),
    "credentials": (
        "import sqlite3\nsqlite3.connect('Login Data')\n",
        "import json\njson.loads('{}')\n",
    ),
    "native": (
        "import ctypes\nctypes.windll.kernel32.VirtualAlloc(0, 10, 0x3000, 0x40)\n",
        "import struct\nstruct.pack('<I', 1)\n",
    ),
    "background": (
        "import threading\nthreading.Thread(target=print).start()\n",
        "import time\ntime.time()\n",
    ),
    "package_install": (
        "import pip\npip.main(['install', 'somethingelse'])\n",
        "import importlib.metadata\nimportlib.metadata.version('x')\n",
    ),
    "obfuscation": (
        "name = oct.__str__()[-3] + hex.__str__()[-4]\nf = getattr(__builtins__, name)\n",
        "name = str(8) + 'x'\nf = getattr(object, name, None)\n",
    ),
    "install_hook": (
        "from setuptools import setup\nfrom setuptools.command.install import install\n"
        "class Hook(install):\n    def run(self):\n        install.run(self)\n"
        "setup(name='x', cmdclass={'install': Hook})\n",
        "from setuptools import setup, find_packages\nsetup(name='x', packages=find_packages())\n",
    ),
}


def test_every_category_has_a_fixture() -> None:
    assert set(CASES) == set(load_rules().categories)


@pytest.mark.parametrize("category", sorted(CASES))
def test_category_fires_on_positive_fixture(category: str) -> None:
    positive, _ = CASES[category]
    assert category in _fired(positive)


@pytest.mark.parametrize("category", sorted(CASES))
def test_category_silent_on_negative_fixture(category: str) -> None:
    _, negative = CASES[category]
    assert category not in _fired(negative)


def test_plain_setup_fires_nothing() -> None:
    assert _fired(NEGATIVE_BASE) == set()


def test_combinations_need_both_sides() -> None:
    both = (
        "import subprocess, urllib.request\n"
        "urllib.request.urlopen('http://example.invalid')\nsubprocess.call(['x'])\n"
    )
    assert "network+process" in _fired(both)
    assert "network+process" not in _fired("import subprocess\nsubprocess.call(['x'])\n")


def test_decoded_payload_features() -> None:
    # base64 of "import os;os.system('id')" - written for this test
    text = "import base64\nexec(base64.b64decode('aW1wb3J0IG9zO29zLnN5c3RlbSgnaWQnKQ=='))\n"
    a = analyse(Script("pkg/__init__.py", ScriptKind.INIT, text))
    b = behaviour(a)
    names = feature_names()
    value = dict(zip(names, b.values, strict=True))
    assert value["decoded"] == 1.0
    assert value["decoded:code"] == 1.0
    assert value["decoded:calls"] > 0.0  # os.system found inside the payload
    assert "process" in b.fired  # ... and counted as behaviour
    assert value["import:process"] == 1.0 and value["install:process"] == 0.0
    assert value["kind:__init__.py"] == 1.0


def test_no_decoded_payload_features_on_plain_strings() -> None:
    a = analyse(Script("setup.py", ScriptKind.SETUP, "print('hello')\n"))
    value = dict(zip(feature_names(), behaviour(a).values, strict=True))
    assert value["decoded"] == 0.0 and value["decoded:code"] == 0.0


def test_install_time_versus_import_time() -> None:
    text = "import os\nos.system('id')\n"
    setup = dict(
        zip(
            feature_names(),
            behaviour(analyse(Script("setup.py", ScriptKind.SETUP, text))).values,
            strict=True,
        )
    )
    init = dict(
        zip(
            feature_names(),
            behaviour(analyse(Script("p/__init__.py", ScriptKind.INIT, text))).values,
            strict=True,
        )
    )
    assert setup["install:process"] == 1.0 and setup["import:process"] == 0.0
    assert init["import:process"] == 1.0 and init["install:process"] == 0.0


def test_vector_matches_layout_and_failed_analysis_is_inactive() -> None:
    b = behaviour(token_analysis("setup.py", ()))
    assert len(b.values) == len(feature_names())
    assert not b.active
    assert behaviour(token_analysis("setup.py", ("os.system",))).active


def test_pattern_syntax() -> None:
    rules = parse_rules(
        """
[categories.a]
apis = ["mod.*", "*.last", "*.two.parts", "exact.name", "base64.*decode"]
[categories.b]
apis = ["other"]
[combinations]
pairs = [["a", "b"]]
"""
    )
    assert rules.categories_of("mod.x.y") == ("a",)
    assert rules.categories_of("anything.last") == ("a",)
    assert rules.categories_of("last") == ("a",)
    assert rules.categories_of("x.two.parts") == ("a",)
    assert rules.categories_of("two.parts") == ("a",)
    assert rules.categories_of("x.parts") == ()
    assert rules.categories_of("exact.name") == ("a",)
    assert rules.categories_of("exact.name.more") == ()
    assert rules.categories_of("base64.urlsafe_b64decode") == ("a",)
    assert rules.categories_of("base64.b64encode") == ()
    assert rules.categories_of("modx") == ()
    assert rules.categories_of("other") == ("b",)


@pytest.mark.parametrize(
    "bad",
    [
        "[categories]\n",
        "[categories.a]\napis = 'x'\n",
        "[categories.a]\napis = ['x']\n[combinations]\npairs = [['a', 'zzz']]\n",
    ],
)
def test_malformed_rules_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_rules(bad)


def test_the_stage_a_file_runs_at_is_a_feature() -> None:
    """The same network call in a startup hook and in a module nothing imports are two
    behaviours: the stage is one-hot and crossed with the timed categories."""
    text = "from urllib.request import urlopen\nurlopen('http://example.invalid/x').read()\n"
    names = feature_names()
    startup = analyse(Script("sitecustomize.py", ScriptKind.MODULE, text, stage=Stage.STARTUP))
    lone = analyse(Script("demo/extra.py", ScriptKind.MODULE, text, stage=Stage.CALL))
    a = dict(zip(names, behaviour(startup).values, strict=True))
    b = dict(zip(names, behaviour(lone).values, strict=True))
    assert a["stage:startup"] == 1.0 and a["at:startup:network"] == 1.0
    assert b["stage:startup"] == 0.0 and b["at:startup:network"] == 0.0
    assert b["stage:call"] == 1.0 and b["at:call:network"] == 1.0


def test_without_a_selected_stage_the_kind_gives_it() -> None:
    a = analyse(Script("setup.py", ScriptKind.SETUP, "import os\nos.system('id')\n"))
    v = dict(zip(feature_names(), behaviour(a).values, strict=True))
    assert v["stage:install"] == 1.0 and v["at:install:process"] == 1.0
