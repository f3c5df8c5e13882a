"""Poetry's version constraints in PEP 440 terms.

`pyproject.toml` files managed by Poetry write `^1.2.3`, `~1.2` or a bare
`1.2.3` where PEP 440 has ranges; the resolver speaks only PEP 440, so each
constraint is translated the way poetry-core reads it, keeping as many
version components as were written. `||` gives alternatives, which the
caller must refuse or accept: a PEP 440 specifier set is one range.
"""

from __future__ import annotations

import re

from packaging.version import InvalidVersion, Version

#: One clause of a Poetry constraint: an optional operator and a version.
_CLAUSE = re.compile(r"\s*(===|==|!=|<=|>=|~=|<|>|=|\^|~)?\s*([^\s,|<>=!~^]+)\s*,?")

#: (operator, version) pairs that must all hold.
_Range = list[tuple[str, str]]


def constraint(text: str) -> list[_Range]:
    """A Poetry version constraint as alternatives (from `||`), each a range of
    PEP 440 (operator, version) clauses; `[[]]` means any version.

    Clauses are separated by commas or spaces (`>= 1.2, < 2` or `>=1.2 <2`).
    Raises ValueError on text that is not a constraint.
    """
    alternatives = []
    for alternative in re.split(r"\|\|?", text):
        if not alternative.strip():
            raise ValueError(f"empty alternative in constraint {text!r}")
        clauses: _Range = []
        pos, end = 0, len(alternative.rstrip())
        while pos < end:
            m = _CLAUSE.match(alternative, pos)
            if m is None or m.end() == pos:
                raise ValueError(f"cannot read constraint {text!r}")
            clauses += _clause(m.group(1), m.group(2), text)
            pos = m.end()
        alternatives.append(clauses)
    if any(not clauses for clauses in alternatives):
        return [[]]  # one alternative allows everything: so does the whole
    return alternatives


def _clause(op: str | None, version: str, text: str) -> _Range:
    if version == "*":
        if op in (None, "=", "==", ">="):
            return []
        raise ValueError(f"cannot read constraint {text!r}")
    if op in ("^", "~"):
        try:
            parsed = Version(version)
        except InvalidVersion as exc:
            raise ValueError(f"{version!r} in {text!r} is not a version") from exc
        return [(">=", version), ("<", _next_breaking(parsed, tilde=op == "~"))]
    return [("==" if op in (None, "=") else op, version)]


def _next_breaking(version: Version, *, tilde: bool) -> str:
    """The first release a caret (`^`) or tilde (`~`) constraint excludes, with
    as many components as were written (poetry-core's `next_breaking`): caret
    keeps the left-most non-zero component, tilde the major and minor."""
    release = list(version.release)
    if tilde:
        place = 0 if len(release) == 1 else 1
    elif release[0] > 0 or len(release) == 1:
        place = 0
    elif release[1] > 0 or len(release) == 2:
        place = 1
    else:
        place = 2
    bumped = [*release[:place], release[place] + 1] + [0] * (len(release) - place - 1)
    epoch = f"{version.epoch}!" if version.epoch else ""
    return epoch + ".".join(str(part) for part in bumped)


def python_marker(alternatives: list[_Range]) -> str | None:
    """Poetry's `python = "..."` key as a PEP 508 marker (None: every Python).

    `python_version` for versions written with up to two components (so
    `^3.8` admits 3.13.1), `python_full_version` for three, as Poetry does.
    """
    if alternatives == [[]]:
        return None
    return " or ".join(
        " and ".join(f'{_python_variable(v)} {op} "{v}"' for op, v in clauses)
        for clauses in alternatives
    )


def _python_variable(version: str) -> str:
    full = version.removesuffix(".*").count(".") >= 2
    return "python_full_version" if full else "python_version"
