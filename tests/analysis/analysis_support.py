"""Helpers for the analysis tests: analyse a fixture text and read its sequences."""

from __future__ import annotations

import textwrap

from mphunter_gate.analysis import analyse
from mphunter_gate.analysis.walk import Priority
from mphunter_gate.types import Script, ScriptAnalysis, ScriptKind


def run(
    src: str,
    *,
    path: str = "setup.py",
    kind: ScriptKind = ScriptKind.SETUP,
    graph_mode: str = "cfg+cg",
    priority: Priority | None = None,
    max_decode_depth: int = 3,
) -> ScriptAnalysis:
    return analyse(
        Script(path, kind, textwrap.dedent(src)),
        graph_mode=graph_mode,
        priority=priority,
        max_decode_depth=max_decode_depth,
    )


def apis(analysis: ScriptAnalysis, which: int = 0) -> list[str]:
    return [c.api for c in analysis.sequences[which]]


def lines(analysis: ScriptAnalysis, which: int = 0) -> list[tuple[str, int]]:
    return [(c.api, c.line) for c in analysis.sequences[which]]
