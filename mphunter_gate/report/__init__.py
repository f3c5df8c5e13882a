"""Report formatters: one module per output format, chosen by one factory.

`formatter_for("sarif")` is the only thing the CLI needs to know; adding a
format is adding one module and one line in `_FORMATTERS`.
"""

from __future__ import annotations

from collections.abc import Callable

from mphunter_gate.errors import InputError
from mphunter_gate.report.base import Formatter

#: Every name `--format` accepts, in the order help text lists them.
FORMAT_NAMES: tuple[str, ...] = ("text", "json", "sarif", "github", "markdown")


def _factories() -> dict[str, Callable[[], Formatter]]:
    # Imported here so that `import mphunter_gate.report` stays cheap and the
    # modules can import helpers from this package without a cycle.
    from mphunter_gate.report.github import GitHubFormatter
    from mphunter_gate.report.json import JsonFormatter
    from mphunter_gate.report.markdown import MarkdownFormatter
    from mphunter_gate.report.sarif import SarifFormatter
    from mphunter_gate.report.text import TextFormatter

    return {
        "text": TextFormatter,
        "json": JsonFormatter,
        "sarif": SarifFormatter,
        "github": GitHubFormatter,
        "markdown": MarkdownFormatter,
    }


def formatter_for(name: str) -> Formatter:
    """The formatter called `name`; an unknown name is the user's input error."""
    factories = _factories()
    try:
        return factories[name]()
    except KeyError:
        choices = ", ".join(FORMAT_NAMES)
        raise InputError(f"unknown report format {name!r} (choose from {choices})") from None


__all__ = ["FORMAT_NAMES", "Formatter", "formatter_for"]
