"""requirements files: pip's line grammar, includes, hashes, index options, unresolvables."""

from __future__ import annotations

from pathlib import Path

import pytest

from mphunter_gate.errors import InputError
from mphunter_gate.sources.requirements import RequirementsSource
from mphunter_gate.types import Dependency, Unresolvable

FIXTURES = Path(__file__).parent / "fixtures" / "reqs"


def _collect(path: Path) -> tuple[RequirementsSource, list[Dependency], list[Unresolvable]]:
    source = RequirementsSource(path)
    items = list(source.collect())
    deps = [i for i in items if isinstance(i, Dependency)]
    unres = [i for i in items if isinstance(i, Unresolvable)]
    assert len(deps) + len(unres) == len(items)
    return source, deps, unres


def test_fixture_file_reads_every_form() -> None:
    source, deps, unres = _collect(FIXTURES / "requirements.txt")
    by_req = {d.requirement: d for d in deps}
    top = str(FIXTURES / "requirements.txt")

    # include (relative to the including file) comes first
    assert deps[0].requirement == "six"
    assert deps[0].origin.file == str(FIXTURES / "base.txt")
    assert deps[0].origin.line == 1

    # constraints are marked, not turned into requirements
    constraint = by_req["requests<2.33"]
    assert constraint.constraint and constraint.origin.file == str(FIXTURES / "constraints.txt")

    requests = by_req["requests[socks]>=2.31,<3"]
    assert requests.origin == type(requests.origin)(top, 7) and not requests.constraint
    assert by_req['django>=4.2 ; python_version >= "3.10"'].origin.line == 8

    urllib3 = by_req["urllib3==2.2.1"]
    assert urllib3.origin.line == 9  # the first physical line of a continued line
    assert urllib3.hashes == frozenset({"a" * 64, "b" * 64})  # lower-cased, bare hex
    assert not urllib3.pinned  # only lock files are pinned

    assert source.index_urls == ["https://private.example/simple"]
    assert source.extra_index_urls == ["https://extra.example/simple"]

    reasons = {u.origin.line: u.reason for u in unres}
    assert set(reasons) == {12, 13, 14, 15}
    assert "editable" in reasons[12]
    assert "URL" in reasons[13]
    assert "local path" in reasons[14]
    assert "direct reference" in reasons[15]


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("six\nrequests>=>2\n", 2, "invalid requirement"),
        ("six\n\n--bogus-option x\n", 3, "unknown option"),
        ("six --hash=sha256:nothex\n", 1, "malformed --hash"),
        ("# c\n-r missing.txt\n", 2, "not found"),
        ("six --frobnicate\n", 1, "unknown per-requirement option"),
        ("-r\n", 1, "needs a value"),
    ],
)
def test_malformed_lines_name_file_and_line(
    tmp_path: Path, text: str, line: int, fragment: str
) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        list(RequirementsSource(path).collect())
    message = str(info.value)
    assert message.startswith(f"{path}:{line}: ")
    assert fragment in message
    assert "\n" not in message
    assert info.value.exit_code == 2


def test_missing_file_is_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        list(RequirementsSource(tmp_path / "nope.txt").collect())


def test_option_forms_and_env_vars(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MPH_TEST_VERSION", "1.2")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "inner.txt").write_text("-c ../pins.txt\nattrs\n")
    (tmp_path / "pins.txt").write_text("attrs==23.1\n")
    path = tmp_path / "requirements.in"
    path.write_text(
        "--requirement=sub/inner.txt\n"
        "-i https://one.example/simple\n"
        "--index-url=https://two.example/simple\n"
        "pkg==${MPH_TEST_VERSION}  --hash sha256:" + "c" * 64 + "\n"
        "other ; sys_platform == 'win32' --config-settings x=y\n"
    )
    source, deps, unres = _collect(path)
    assert not unres
    assert [(d.requirement, d.constraint) for d in deps] == [
        ("attrs==23.1", True),
        ("attrs", False),
        ("pkg==1.2", False),
        ("other ; sys_platform == 'win32'", False),
    ]
    assert deps[2].hashes == frozenset({"c" * 64})
    assert source.index_urls == ["https://two.example/simple"]  # the last one wins, as in pip


def test_collect_twice_gives_same_result() -> None:
    source = RequirementsSource(FIXTURES / "requirements.txt")
    assert list(source.collect()) == list(source.collect())
    assert source.extra_index_urls == ["https://extra.example/simple"]


def test_an_include_loop_is_an_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("six\n-r b.txt\n")
    (tmp_path / "b.txt").write_text("# dev\n-r a.txt\n")
    with pytest.raises(InputError, match=r"include loop: a.txt -> b.txt -> a.txt") as err:
        list(RequirementsSource(tmp_path / "a.txt").collect())
    assert str(err.value).startswith(f"{tmp_path / 'b.txt'}:2: ")


def test_a_file_included_twice_but_not_in_a_loop_is_read_once(tmp_path: Path) -> None:
    (tmp_path / "common.txt").write_text("six\n")
    (tmp_path / "a.txt").write_text("-r common.txt\n")
    (tmp_path / "top.txt").write_text("-r common.txt\n-r a.txt\n")
    _, deps, _ = _collect(tmp_path / "top.txt")
    assert [d.requirement for d in deps] == ["six"]


def _project(folder: Path, pyproject: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pyproject.toml").write_text(pyproject)


PROJECT = """
[project]
name = "my-app"
version = "0.1"
dependencies = ["httpcore>=1", "anyio"]
[project.optional-dependencies]
http2 = ["h2>=3"]
"""


@pytest.mark.parametrize("line", ["-e .[http2]", ".[http2]", "-e file:.[http2]"])
def test_a_local_project_s_requirements_are_read_with_its_extras(tmp_path: Path, line: str) -> None:
    from mphunter_gate.types import LocalProject

    _project(tmp_path, PROJECT)
    (tmp_path / "requirements.txt").write_text(f"{line}\nsix\n")
    items = list(RequirementsSource(tmp_path / "requirements.txt").collect())
    [local] = [i for i in items if isinstance(i, LocalProject)]
    assert local.name == "my-app" and local.complete and local.origin.line == 1
    assert "3 requirement(s) read from pyproject with extras http2" in local.reason
    deps = [i for i in items if isinstance(i, Dependency)]
    assert [d.requirement for d in deps] == [
        "httpcore>=1",
        "anyio",
        'h2>=3; extra == "http2"',
        "six",
    ]
    assert all(d.extras == frozenset({"http2"}) for d in deps[:3]) and deps[3].extras == frozenset()


def test_a_local_project_with_dynamic_requirements_is_unscanned(tmp_path: Path) -> None:
    from mphunter_gate.types import LocalProject

    _project(
        tmp_path / "lib", '[project]\nname = "lib"\nversion = "1"\ndynamic = ["dependencies"]\n'
    )
    (tmp_path / "requirements.txt").write_text("-e ./lib\n")
    [local] = list(RequirementsSource(tmp_path / "requirements.txt").collect())
    assert isinstance(local, LocalProject) and not local.complete


def test_a_vcs_editable_stays_unresolvable(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("-e git+https://example.com/x.git#egg=x\n")
    [item] = list(RequirementsSource(tmp_path / "requirements.txt").collect())
    assert isinstance(item, Unresolvable) and "VCS" in item.reason
