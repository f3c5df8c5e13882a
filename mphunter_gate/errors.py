"""The error hierarchy, one branch per kind of failure a user can meet.

Stages raise these; the CLI catches them once and turns each into a
one-line message and the exit code from CONVENTIONS (2 input, 3 infra).
"""

from __future__ import annotations


class GateError(Exception):
    """Base of every error the CLI reports without a traceback."""

    exit_code = 3


class InputError(GateError):
    """The user gave something we cannot read: bad file, bad line, bad flag.

    The message names the file and line where there is one.
    """

    exit_code = 2

    def __init__(self, message: str, file: str | None = None, line: int | None = None) -> None:
        where = ""
        if file is not None:
            where = f"{file}:{line}: " if line is not None else f"{file}: "
        super().__init__(f"{where}{message}")
        self.file = file
        self.line = line


class InfraError(GateError):
    """The gate could not finish: the index or network failed, the models are broken."""

    exit_code = 3


class PackageIndexError(InfraError):
    """The package index could not be reached or answered nonsense."""


class ModelError(InfraError):
    """The bundled models are missing or do not match their manifest."""


class ArchiveError(Exception):
    """One archive is unreadable or hostile; that package becomes `unscanned`.

    Not a GateError: it never stops the run.
    """
