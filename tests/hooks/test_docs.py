"""hooks/README.md agrees with the CLI: every option it shows a command taking is one
that command's parser accepts (the README once documented `install -r FILE -- OPTS`,
which the CLI rejects)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from mphunter_gate.cli import build_parser

README = Path(__file__).resolve().parents[2] / "hooks" / "README.md"


def _options(command: str) -> set[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {o for a in sub.choices[command]._actions for o in a.option_strings}


def _documented() -> list[tuple[str, str]]:
    """(command, option) for each `mphunter-gate <command> ...` usage block, each
    option the text says install takes ("It takes every option of `check` (...)"),
    and the install options the text explains ("`--python` is ...")."""
    text = README.read_text()
    found = []
    for block in re.findall(r"```\n(mphunter-gate [a-z]+.*?)```", text, re.S):
        command = block.split()[1]
        found += [(command, o) for o in re.findall(r"(?<![\w=-])(--[a-z][a-z-]*)", block)]
    for listed in re.findall(r"every option of `check` \((.*?)\)", text, re.S):
        found += [("check", o) for o in re.findall(r"`(--[a-z-]+)`", listed)]
        found += [("install", o) for o in re.findall(r"`(--[a-z-]+)`", listed)]
    found += [("install", o) for o in re.findall(r"`(--[a-z-]+)` (?:is|keeps) ", text)]
    return found


def test_the_readme_shows_commands_and_options() -> None:
    assert ("install", "--pip-arg") in _documented()
    assert ("check", "--index-deadline") in _documented()


@pytest.mark.parametrize(("command", "option"), _documented())
def test_every_documented_option_is_accepted(command: str, option: str) -> None:
    assert option in _options(command), f"hooks/README.md: {command} {option}"
