"""pyproject.toml: [project] dependencies, optional dependencies, PEP 735 dependency groups."""

from __future__ import annotations

from pathlib import Path

import pytest

from mphunter_gate.errors import InputError
from mphunter_gate.sources.pyproject import PyprojectSource
from mphunter_gate.types import Dependency, Unresolvable

PYPROJECT = """\
[build-system]
requires = ["setuptools"]

[project]
name = "My_Project"
version = "1.0"
dependencies = [
    "requests>=2.31",
    'click ; python_version >= "3.10"',
    "vendored @ https://example.com/vendored-1.0.whl",
]

[project.optional-dependencies]
redis = ["redis>=5"]
all = ["my-project[redis]", "rich"]

[dependency-groups]
test = ["pytest>=8", {include-group = "lint"}]
lint = ["ruff"]
"""


def test_reads_all_three_tables(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(PYPROJECT)
    items = list(PyprojectSource(path).collect())
    deps = [(i.requirement, i.origin.line) for i in items if isinstance(i, Dependency)]
    assert deps == [
        ("requests>=2.31", 8),
        ('click ; python_version >= "3.10"', 9),
        ("redis>=5", 14),
        ("rich", 15),  # the self-reference my-project[redis] is skipped
        ("pytest>=8", 18),
        ("ruff", 19),  # included groups are read once, where they are defined
    ]
    unres = [i for i in items if isinstance(i, Unresolvable)]
    assert [(u.origin.line, "direct reference" in u.reason) for u in unres] == [(10, True)]


def test_dynamic_dependencies_are_unresolvable(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[project]\nname = "x"\nversion = "1"\ndynamic = ["dependencies"]\n')
    items = list(PyprojectSource(path).collect())
    assert len(items) == 1 and isinstance(items[0], Unresolvable)
    assert "dynamic" in items[0].reason and items[0].origin.line == 1


def test_no_project_table_yields_nothing(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text("[tool.ruff]\nline-length = 100\n")
    assert list(PyprojectSource(path).collect()) == []


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        (
            '[project]\nname = "x"\ndependencies = [\n  "ok",\n  "bad spec ==",\n]\n',
            5,
            "invalid requirement",
        ),
        ('[project]\nname = "x"\ndependencies = "requests"\n', 1, "must be a list"),
        (
            '[dependency-groups]\na = [{include-group = "b"}]\nb = [{include-group = "a"}]\n',
            2,
            "cycle",
        ),
        ('[dependency-groups]\na = [{include-group = "zzz"}]\n', 2, "not defined"),
        ('[project\nname = "x"\n', 1, "invalid TOML"),
    ],
)
def test_errors_name_file_and_line(tmp_path: Path, text: str, line: int, fragment: str) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        list(PyprojectSource(path).collect())
    assert str(info.value).startswith(f"{path}:{line}: ")
    assert fragment in str(info.value)


POETRY = """\
[tool.poetry]
name = "poetry-app"
version = "0.1.0"

[[tool.poetry.source]]
name = "internal"
url = "https://internal.example/simple"
priority = "supplemental"

[tool.poetry.dependencies]
python = "^3.9"
requests = "^2.31"
Flask = { version = "~2.3", extras = ["async", "dotenv"] }
pywin32 = { version = "306", markers = "sys_platform == 'win32'" }
tomli = { version = ">=1.1 <3", python = "<3.11", optional = true }
numpy = [
    { version = "<1.25", python = "<3.9" },
    { version = "^1.26", python = ">=3.9" },
]
corp = { version = "*", source = "internal" }
mine = { path = "../mine", develop = true }
edge = { git = "https://github.com/example/edge.git", branch = "main" }
either = "^1.0 || ^2.0"
poetry-app = { path = ".", extras = ["x"] }

[tool.poetry.group.test.dependencies]
pytest = ">=8.0,<9"

[tool.poetry.group.docs]
optional = true

[tool.poetry.group.docs.dependencies]
sphinx = "7.2.*"

[tool.poetry.dev-dependencies]
black = "==24.1.0"
"""


def test_poetry_tables_are_read_with_their_lines(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(POETRY)
    source = PyprojectSource(path)
    items = list(source.collect())
    deps = [(i.requirement, i.origin.line) for i in items if isinstance(i, Dependency)]
    assert deps == [
        ("requests>=2.31,<3.0", 12),  # `python` is the interpreter, not a package
        ("Flask[async,dotenv]>=2.3,<2.4", 13),
        ("pywin32==306 ; (sys_platform == 'win32')", 14),
        ('tomli>=1.1,<3 ; (python_version < "3.11")', 15),  # optional extras are read too
        ('numpy<1.25 ; (python_version < "3.9")', 16),
        ('numpy>=1.26,<2.0 ; (python_version >= "3.9")', 16),
        ("corp", 20),
        ("black==24.1.0", 36),  # the legacy dev-dependencies table
        ("pytest>=8.0,<9", 27),
        ("sphinx==7.2.*", 33),  # optional groups too: `poetry install --with docs`
    ]
    unres = [(i.text, i.origin.line, i.reason) for i in items if isinstance(i, Unresolvable)]
    assert [(text.split(" ")[0], line) for text, line, _ in unres] == [
        ("mine", 21),
        ("edge", 22),
        ("either", 23),
    ]
    assert "path dependency" in unres[0][2] and "git dependency" in unres[1][2]
    assert "||" in unres[2][2]
    # the self-reference poetry-app is skipped; the named source is an index to ask
    assert source.extra_index_urls == ["https://internal.example/simple"]


@pytest.mark.parametrize(
    ("constraint", "requirement"),
    [
        ("^1.2.3", "pkg>=1.2.3,<2.0.0"),
        ("^1.2", "pkg>=1.2,<2.0"),
        ("^1", "pkg>=1,<2"),
        ("^0.2.3", "pkg>=0.2.3,<0.3.0"),
        ("^0.0.3", "pkg>=0.0.3,<0.0.4"),
        ("^0.0", "pkg>=0.0,<0.1"),
        ("^0", "pkg>=0,<1"),
        ("^1.0.0a1", "pkg>=1.0.0a1,<2.0.0"),
        ("~1.2.3", "pkg>=1.2.3,<1.3.0"),
        ("~1.2", "pkg>=1.2,<1.3"),
        ("~1", "pkg>=1,<2"),
        ("~=1.2", "pkg~=1.2"),
        ("*", "pkg"),
        ("1.2.3", "pkg==1.2.3"),
        ("=1.2.3", "pkg==1.2.3"),
        ("1.2.*", "pkg==1.2.*"),
        ("!=1.5.*", "pkg!=1.5.*"),
        (">=1.2,<2.0", "pkg>=1.2,<2.0"),
        (">= 1.2, < 2.0", "pkg>=1.2,<2.0"),
        (">=1.2 <2.0 !=1.4", "pkg>=1.2,<2.0,!=1.4"),
        ("^1.0 || *", "pkg"),  # an alternative that allows everything
    ],
)
def test_poetry_constraints_become_pep440(
    tmp_path: Path, constraint: str, requirement: str
) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(f'[tool.poetry.dependencies]\npkg = "{constraint}"\n')
    (dep,) = PyprojectSource(path).collect()
    assert isinstance(dep, Dependency) and dep.requirement == requirement
    assert dep.origin.line == 2


@pytest.mark.parametrize(
    ("python", "marker"),
    [
        ("^3.8", 'python_version >= "3.8" and python_version < "4.0"'),
        (">=3.8.1", 'python_full_version >= "3.8.1"'),
        ("3.10.*", 'python_version == "3.10.*"'),
        (
            "~2.7 || ^3.6",
            'python_version >= "2.7" and python_version < "2.8" or '
            'python_version >= "3.6" and python_version < "4.0"',
        ),
    ],
)
def test_poetry_python_key_becomes_a_marker(tmp_path: Path, python: str, marker: str) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(
        f'[tool.poetry.dependencies]\npkg = {{ version = "1.0", python = "{python}" }}\n'
    )
    (dep,) = PyprojectSource(path).collect()
    assert isinstance(dep, Dependency) and dep.requirement == f"pkg==1.0 ; ({marker})"


@pytest.mark.parametrize(
    ("version", "included"),
    [("3.8.0", False), ("3.9.1", True), ("3.13.0", True), ("4.0.0", False)],
)
def test_poetry_markers_are_evaluated_by_the_target(
    tmp_path: Path, version: str, included: bool
) -> None:
    from packaging.requirements import Requirement

    from mphunter_gate.resolve import Target

    path = tmp_path / "pyproject.toml"
    path.write_text('[tool.poetry.dependencies]\npkg = { version = "1.0", python = "^3.9" }\n')
    (dep,) = PyprojectSource(path).collect()
    assert isinstance(dep, Dependency)
    target = Target.create(version, "manylinux_2_17_x86_64")
    assert target.evaluate(Requirement(dep.requirement).marker) is included


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ('"^x.y"', "is not a version"),
        ('">=1.0 ||"', "empty alternative"),
        ('"@@"', "not a valid constraint"),
        ('"<"', "cannot read"),
    ],
)
def test_poetry_bad_constraints_name_file_and_line(
    tmp_path: Path, value: str, fragment: str
) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(f'[tool.poetry]\nname = "x"\n\n[tool.poetry.dependencies]\nbad = {value}\n')
    with pytest.raises(InputError) as info:
        list(PyprojectSource(path).collect())
    assert str(info.value).startswith(f"{path}:5: bad: ")
    assert fragment in str(info.value)
