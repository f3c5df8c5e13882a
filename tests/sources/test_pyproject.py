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
