"""`--changed-since`: declarations added or changed against a git ref, in real git repos."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mphunter_gate.changed import (
    baseline,
    changed_dependencies,
    changed_unresolvable,
    dep_key,
)
from mphunter_gate.errors import InputError
from mphunter_gate.gate import collect
from mphunter_gate.types import Dependency, Origin

H1 = "1" * 64
H2 = "2" * 64


def git(repo: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    return root


def commit(repo: Path, files: dict[str, str], message: str = "c") -> str:
    for rel, text in files.items():
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def changed(files: list[Path], ref: str) -> list[str]:
    deps, _, _, _ = collect(files)
    return [d.requirement for d in changed_dependencies(files, ref, deps)]


def test_added_and_bumped_requirements_are_changed_others_not(repo: Path) -> None:
    base = commit(repo, {"requirements.txt": "requests==2.31.0\nflask>=2\nsix\n"})
    (repo / "requirements.txt").write_text(
        "# reordered and commented\nsix\nrequests==2.32.0\nflask >= 2\nattrs\n"
    )
    assert changed([repo / "requirements.txt"], base) == ["requests==2.32.0", "attrs"]


def test_unchanged_file_yields_nothing(repo: Path) -> None:
    commit(repo, {"requirements.txt": "six\nattrs==23.1\n"})
    assert changed([repo / "requirements.txt"], "HEAD") == []


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("pkg==1.0", "pkg[extra]==1.0"),
        ("pkg==1.0", "pkg==1.0; python_version < '3.12'"),
        (f"pkg==1.0 --hash=sha256:{H1}", f"pkg==1.0 --hash=sha256:{H2}"),
        ("pkg>=1", "pkg>=1,<3"),
    ],
)
def test_extras_marker_hashes_and_specifier_count_as_changes(
    repo: Path, old: str, new: str
) -> None:
    ref = commit(repo, {"requirements.txt": f"other==1\n{old}\n"})
    (repo / "requirements.txt").write_text(f"other==1\n{new}\n")
    # The requirement text stops before per-line options such as --hash.
    assert changed([repo / "requirements.txt"], ref) == [new.split(" --")[0]]


def test_spelling_and_specifier_order_are_not_changes(repo: Path) -> None:
    ref = commit(repo, {"requirements.txt": "Foo_Bar[B,a]>=1,<2\n"})
    (repo / "requirements.txt").write_text("foo-bar[a,b] <2, >=1\n")
    assert changed([repo / "requirements.txt"], ref) == []


def test_file_absent_at_ref_is_entirely_new(repo: Path) -> None:
    ref = commit(repo, {"README": "x\n"})
    (repo / "requirements-dev.txt").write_text("pytest\nruff==0.4\n")
    assert changed([repo / "requirements-dev.txt"], ref) == ["pytest", "ruff==0.4"]


def test_old_includes_are_read_at_the_ref(repo: Path) -> None:
    ref = commit(
        repo,
        {
            "requirements/base.txt": "six==1.16.0\n",
            "requirements/prod.txt": "-r base.txt\nattrs==23.1\n",
        },
    )
    # Only the included file changes; the including file is the one checked.
    (repo / "requirements" / "base.txt").write_text("six==1.17.0\n")
    assert changed([repo / "requirements" / "prod.txt"], ref) == ["six==1.17.0"]


def test_include_with_parent_path_is_followed(repo: Path) -> None:
    ref = commit(
        repo,
        {"common.txt": "six==1\n", "svc/requirements.txt": "-r ../common.txt\nattrs\n"},
    )
    assert changed([repo / "svc" / "requirements.txt"], ref) == []
    (repo / "svc" / "requirements.txt").write_text("-r ../common.txt\nattrs\nidna\n")
    assert changed([repo / "svc" / "requirements.txt"], ref) == ["idna"]


def test_requirement_moved_between_checked_files_is_not_a_change(repo: Path) -> None:
    ref = commit(repo, {"requirements.txt": "six\nattrs\n", "requirements-dev.txt": "pytest\n"})
    (repo / "requirements.txt").write_text("attrs\n")
    (repo / "requirements-dev.txt").write_text("pytest\nsix\n")
    files = [repo / "requirements.txt", repo / "requirements-dev.txt"]
    assert changed(files, ref) == []


def test_lock_file_version_bump(repo: Path) -> None:
    lock = (
        'version = 1\nrequires-python = ">=3.8"\n\n'
        '[[package]]\nname = "six"\nversion = "{six}"\n'
        'source = {{ registry = "https://pypi.org/simple" }}\n\n'
        '[[package]]\nname = "attrs"\nversion = "23.1.0"\n'
        'source = {{ registry = "https://pypi.org/simple" }}\n'
    )
    ref = commit(repo, {"uv.lock": lock.format(six="1.16.0")})
    (repo / "uv.lock").write_text(lock.format(six="1.17.0"))
    result = changed([repo / "uv.lock"], ref)
    assert [r.split(";")[0] for r in result] == ["six==1.17.0"]


def test_changed_constraint_marks_requirement_of_same_name(repo: Path) -> None:
    ref = commit(
        repo,
        {
            "requirements.txt": "-c constraints.txt\nsix\nattrs\n",
            "constraints.txt": "six==1.16.0\nattrs==23.1\n",
        },
    )
    (repo / "constraints.txt").write_text("six==1.17.0\nattrs==23.1\n")
    deps, _, _, _ = collect([repo / "requirements.txt"])
    result = changed_dependencies([repo / "requirements.txt"], ref, deps)
    assert [(d.requirement, d.constraint) for d in result] == [
        ("six==1.17.0", True),
        ("attrs==23.1", True),
        ("six", False),
    ]


def test_changed_constraint_on_transitive_name_checks_everything(repo: Path) -> None:
    ref = commit(
        repo,
        {"requirements.txt": "-c constraints.txt\nflask\nattrs\n", "constraints.txt": "jinja2<3\n"},
    )
    (repo / "constraints.txt").write_text("jinja2<4\n")
    deps, _, _, _ = collect([repo / "requirements.txt"])
    result = changed_dependencies([repo / "requirements.txt"], ref, deps)
    assert [d.requirement for d in result if not d.constraint] == ["flask", "attrs"]


def test_unreadable_old_file_counts_as_entirely_new(repo: Path) -> None:
    ref = commit(repo, {"requirements.txt": "this is not ( a requirement\n"})
    (repo / "requirements.txt").write_text("six\n")
    assert changed([repo / "requirements.txt"], ref) == ["six"]


def test_new_unresolvable_lines_only(repo: Path) -> None:
    ref = commit(repo, {"requirements.txt": "./vendored/pkg\nsix\n"})
    (repo / "requirements.txt").write_text(
        "./vendored/pkg\nsix\ngit+https://example.invalid/x.git\n"
    )
    files = [repo / "requirements.txt"]
    _, bad, _, _ = collect(files)
    assert [u.text for u in changed_unresolvable(files, ref, bad)] == [
        "git+https://example.invalid/x.git"
    ]


def test_baseline_is_computed_once_and_reusable(repo: Path) -> None:
    ref = commit(repo, {"requirements.txt": "six\n"})
    files = [repo / "requirements.txt"]
    base = baseline(files, ref)
    assert dep_key(Dependency("SIX", Origin("x", 1))) in base.keys
    (repo / "requirements.txt").write_text("six\nattrs\n")
    deps, _, _, _ = collect(files)
    assert [d.requirement for d in changed_dependencies(files, ref, deps, base=base)] == ["attrs"]


def test_relative_ref_like_head_tilde(repo: Path) -> None:
    commit(repo, {"requirements.txt": "six\n"})
    commit(repo, {"requirements.txt": "six\nattrs\n"})
    assert changed([repo / "requirements.txt"], "HEAD~1") == ["attrs"]
    assert changed([repo / "requirements.txt"], "HEAD") == []


def test_unknown_ref_is_one_line_input_error(repo: Path) -> None:
    commit(repo, {"requirements.txt": "six\n"})
    with pytest.raises(InputError, match="unknown git ref 'origin/nope'") as info:
        changed([repo / "requirements.txt"], "origin/nope")
    assert "\n" not in str(info.value)


def test_option_like_ref_is_refused(repo: Path) -> None:
    commit(repo, {"requirements.txt": "six\n"})
    with pytest.raises(InputError, match="is not a git ref"):
        changed([repo / "requirements.txt"], "--output=/tmp/x")


def test_not_a_git_repository(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "requirements.txt").write_text("six\n")
    with pytest.raises(InputError, match="not inside a git repository") as info:
        changed([plain / "requirements.txt"], "main")
    assert "'main'" in str(info.value)
