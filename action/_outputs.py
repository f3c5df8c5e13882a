"""Step outputs for the action's scripts (stdlib only: runs before the tool exists).

`$GITHUB_OUTPUT` takes `name=value` lines; a multi-line value needs a
heredoc with a delimiter that cannot occur in it, so the delimiter is random.
The tool itself has the same logic in mphunter_gate.report.github; this copy
exists because these scripts run before (and without) the tool.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping


def output_block(name: str, value: str) -> str:
    if "\n" not in value and "\r" not in value:
        return f"{name}={value}\n"
    delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
    while delimiter in value:
        delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def set_outputs(values: Mapping[str, str], environ: Mapping[str, str] | None = None) -> None:
    env = os.environ if environ is None else environ
    path = env.get("GITHUB_OUTPUT")
    if not path:
        return
    with open(path, "a", encoding="utf-8", newline="\n") as fh:
        for name, value in values.items():
            fh.write(output_block(name, value))
