"""The command line: every option documented, -v anywhere, exit codes in --help."""

from __future__ import annotations

import argparse

import pytest

from mphunter_gate.cli import build_parser


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("no subcommands")


@pytest.mark.parametrize("argv", [["-v", "check"], ["check", "-v"], ["check", "--verbose"]])
def test_verbose_before_or_after_the_command(argv: list[str]) -> None:
    assert build_parser().parse_args(argv).verbose is True


def test_not_verbose_by_default() -> None:
    assert build_parser().parse_args(["check"]).verbose is False


def test_every_option_of_every_command_has_help() -> None:
    parser = build_parser()
    missing = [
        f"{name} {'/'.join(a.option_strings) or a.dest}"
        for name, sub in {"": parser, **_subparsers(parser)}.items()
        for a in sub._actions
        if not a.help and not isinstance(a, argparse._SubParsersAction | argparse._VersionAction)
    ]
    assert missing == []


@pytest.mark.parametrize("command", [None, "check", "scan", "install"])
def test_help_lists_the_exit_codes(command: str | None) -> None:
    parser = build_parser()
    sub = parser if command is None else _subparsers(parser)[command]
    text = sub.format_help()
    assert "exit codes:" in text and "4  nothing was scanned" in text


def test_an_unwritable_cache_costs_one_warning_and_a_temporary_cache(
    tmp_path, caplog: pytest.LogCaptureFixture
) -> None:
    from mphunter_gate.cli import usable_cache

    bad = tmp_path / "cache"
    bad.mkdir()
    (bad / "pages").write_text("a file where a folder belongs")
    spare = usable_cache(bad)
    assert spare != bad and spare.is_dir()
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert "is not writable" in caplog.text
    good = tmp_path / "fine"
    assert usable_cache(good) == good and (good / "blobs").is_dir()


def test_offline_a_read_only_warm_cache_is_read_not_replaced(tmp_path, monkeypatch) -> None:
    import errno

    import mphunter_gate.cli as cli

    warm = tmp_path / "warm"
    for part in ("pages", "blobs", "metadata", "verdicts"):
        (warm / part).mkdir(parents=True)

    def read_only(*args, **kwargs):  # what a read-only mount answers (root ignores mode bits)
        raise PermissionError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(cli.tempfile, "TemporaryFile", read_only)
    assert cli.usable_cache.__wrapped__(warm, True) == warm  # offline: read it
    assert cli.usable_cache.__wrapped__(warm, False) != warm  # online: a cache that works
