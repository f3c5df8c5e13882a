"""The one interface every output format implements.

A formatter turns a finished `Report` into text and does nothing else: no
I/O, no policy, no re-scoring. Keeping formatters pure means the CLI, the
GitHub Action and a library user all get byte-identical output for the same
report, and each format can be tested from a hand-built `Report`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from mphunter_gate.types import Report


class Formatter(ABC):
    """Render a report in one output format."""

    #: The name users pass to `--format`.
    name: str

    @abstractmethod
    def format(self, report: Report) -> str:
        """The whole document, ending with a newline."""
