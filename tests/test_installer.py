"""The pip command line of `mphunter-gate install`: exactly the scanned files."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mphunter_gate.errors import InputError
from mphunter_gate.installer import Pin, pip_install_argv, requirements_text

A = "a" * 64
B = "b" * 64


def test_requirements_pin_every_scanned_hash_sorted_by_name() -> None:
    text = requirements_text([("zeta", "2.0", B), Pin("Alpha_Pkg", "1.0", A), ("zeta", "2.0", A)])
    assert text == (
        f"Alpha_Pkg==1.0 --hash=sha256:{A}\nzeta==2.0 --hash=sha256:{A} --hash=sha256:{B}\n"
    )


def test_duplicate_hash_is_listed_once_and_prefix_is_accepted() -> None:
    text = requirements_text([("x", "1", A), ("x", "1", "sha256:" + A.upper())])
    assert text == f"x==1 --hash=sha256:{A}\n"


@pytest.mark.parametrize(
    ("pin", "message"),
    [
        (("--index-url=http://evil", "1.0", A), "not a valid project name"),
        (("ok", "1.0; os_name=='nt'", A), "not a PEP 440 version"),
        (("ok", "1.0 --pre", A), "not a PEP 440 version"),
        (("ok", "1.0", "abc"), "no valid sha256"),
        (("ok", "1.0", A + "\n--extra-index-url x"), "no valid sha256"),
    ],
)
def test_hostile_pins_are_refused(pin: tuple[str, str, str], message: str) -> None:
    with pytest.raises(InputError, match=message):
        requirements_text([pin])


def test_conflicting_versions_and_empty_input_are_errors() -> None:
    with pytest.raises(InputError, match="conflicting pins for x"):
        requirements_text([("x", "1", A), ("X", "2", B)])
    with pytest.raises(InputError, match="nothing to install"):
        requirements_text([])


def test_argv_requires_hashes_and_no_deps() -> None:
    argv = pip_install_argv(Path("/tmp/req.txt"))
    assert argv == [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--require-hashes",
        "--no-deps",
        "-r",
        "/tmp/req.txt",
    ]


def test_argv_with_indexes_and_options() -> None:
    argv = pip_install_argv(
        Path("r.txt"),
        python="/venv/bin/python",
        index_url="https://idx.example/simple",
        extra_index_urls=["https://extra.example/simple"],
        no_build_isolation=True,
        pip_args=["--target=/opt/site"],
    )
    assert argv[:6] == ["/venv/bin/python", "-m", "pip", "install", "--require-hashes", "--no-deps"]
    assert "--no-build-isolation" in argv
    assert argv[argv.index("--index-url") + 1] == "https://idx.example/simple"
    assert argv[argv.index("--extra-index-url") + 1] == "https://extra.example/simple"
    assert argv[-3:] == ["--target=/opt/site", "-r", "r.txt"]


@pytest.mark.parametrize("arg", ["-r", "--requirement=x", "-e", "--deps", "evilpkg", "-c"])
def test_options_that_undo_the_guarantees_are_refused(arg: str) -> None:
    with pytest.raises(InputError, match="not allowed"):
        pip_install_argv(Path("r.txt"), pip_args=[arg])


def test_bad_index_url_is_refused() -> None:
    with pytest.raises(InputError, match="not an index URL"):
        pip_install_argv(Path("r.txt"), index_url="--trusted-host evil")


def test_pip_accepts_the_generated_file(tmp_path: Path) -> None:
    """pip itself parses our file: a dry run against an empty local index fails
    on resolution, not on the file's syntax or the hash mode."""
    import subprocess

    req = tmp_path / "req.txt"
    req.write_text(requirements_text([("nonexistent-pkg-for-test", "1.0", A)]))
    (tmp_path / "index").mkdir()
    argv = pip_install_argv(req, index_url=(tmp_path / "index").as_uri())
    argv[argv.index("install") + 1 : argv.index("install") + 1] = ["--dry-run", "--quiet"]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode != 0
    assert "No matching distribution found for nonexistent-pkg-for-test==1.0" in result.stderr
