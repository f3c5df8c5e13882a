"""Line numbers for values that a TOML or JSON parser hands back without them.

`tomllib` and `json` forget where things were; reports and GitHub
annotations need `file:line`. These helpers find a value's line in the raw
text, searching forward from a known anchor (a table header), which is exact
for the files tools generate and a close approximation for hand-written ones.
"""

from __future__ import annotations

import json
import re


class LineFinder:
    """Searches the raw text of one file, line by line."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def header(self, name: str, start: int = 1) -> int | None:
        """The 1-based line of TOML table header `[name]` or `[[name]]`, from `start`."""
        pattern = re.compile(r"^\s*\[\[?\s*" + re.escape(name) + r"\s*\]\]?\s*(#.*)?$")
        return self._search(pattern, start)

    def headers(self, name: str) -> list[int]:
        """Every line holding the array-of-tables header `[[name]]`, in order."""
        pattern = re.compile(r"^\s*\[\[\s*" + re.escape(name) + r"\s*\]\]\s*(#.*)?$")
        return [i for i, line in enumerate(self.lines, start=1) if pattern.match(line)]

    def string(self, value: str, start: int = 1, fallback: int = 1) -> int:
        """The line where the quoted string `value` appears, at or after `start`."""
        quoted = (json.dumps(value), f"'{value}'", f'"{value}"', f"'''{value}'''")
        for number in range(max(start, 1), len(self.lines) + 1):
            if any(q in self.lines[number - 1] for q in quoted):
                return number
        return fallback

    def toml_key(self, key: str, start: int = 1, fallback: int = 1) -> int:
        """The line where TOML key `key` (bare or quoted) is assigned, at or after `start`."""
        quoted = "|".join(re.escape(k) for k in (key, json.dumps(key), f"'{key}'"))
        found = self._search(re.compile(r"^\s*(" + quoted + r")\s*="), start)
        return fallback if found is None else found

    def json_key(self, key: str, start: int = 1, fallback: int = 1) -> int:
        """The line where JSON object key `key` is defined, at or after `start`."""
        pattern = re.compile(r"^\s*" + re.escape(json.dumps(key)) + r"\s*:")
        found = self._search(pattern, start)
        return fallback if found is None else found

    def _search(self, pattern: re.Pattern[str], start: int) -> int | None:
        for number in range(max(start, 1), len(self.lines) + 1):
            if pattern.match(self.lines[number - 1]):
                return number
        return None
