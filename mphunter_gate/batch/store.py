"""Where a batch's results live: one row per judged file, SQLite by default.

A batch of 700k packages runs for days and will be interrupted. Every task's
rows are committed in one transaction as soon as the task returns, in WAL
mode (readers, such as an auditor's query, never block the writer), so a
crash loses at most the tasks in flight. Rows are keyed by (key, model
version), where the key is the file's sha256 (or, for an item of which no
file could be examined, the item's own key): a rerun skips every key already
stored for the same models, and a file is never judged twice. New models
judge everything again, beside the old rows.

The driver uses only the `Store` protocol; see the package docstring for the
one class to add for PostgreSQL.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from mphunter_gate.errors import InputError

SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    key TEXT NOT NULL,
    model_version TEXT NOT NULL,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    filename TEXT NOT NULL,
    sha256 TEXT,
    verdict TEXT NOT NULL,
    score REAL,
    reason TEXT NOT NULL,
    rank_positive REAL,
    rank_negative REAL,
    rank_pn REAL,
    evidence TEXT NOT NULL,
    judged_at TEXT NOT NULL,
    PRIMARY KEY (key, model_version)
);
CREATE INDEX IF NOT EXISTS results_by_name ON results (name, model_version);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

_COLUMNS = (
    "key",
    "model_version",
    "name",
    "version",
    "filename",
    "sha256",
    "verdict",
    "score",
    "reason",
    "rank_positive",
    "rank_negative",
    "rank_pn",
    "evidence",
    "judged_at",
)


@dataclass(frozen=True)
class Row:
    """One judged file (or one item nothing of which could be examined).

    `rank_*` are the seed's three rank modes for the file's riskiest embedded
    script (None when no script could be embedded); `evidence` is JSON text:
    the gate's JSON report object for this file.
    """

    key: str
    model_version: str
    name: str
    version: str
    filename: str
    sha256: str | None
    verdict: str
    score: float | None
    reason: str
    rank_positive: float | None
    rank_negative: float | None
    rank_pn: float | None
    evidence: str
    judged_at: str


class Store(Protocol):
    """What the driver needs of a result store (SQLite here; see the package docstring)."""

    def done_keys(self, keys: Iterable[str], model_version: str) -> set[str]: ...
    def keys_of(self, name: str, model_version: str) -> set[str]: ...
    def delete_unscanned(self, model_version: str) -> int: ...
    def add(self, rows: Sequence[Row]) -> int: ...
    def rows(self, keys: Iterable[str], model_version: str) -> list[Row]: ...
    def get_state(self, key: str) -> str | None: ...
    def set_state(self, key: str, value: str) -> None: ...
    def close(self) -> None: ...


class SqliteStore:
    """The default store: one SQLite file in WAL mode, written by the driver only."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, timeout=30.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
        except (OSError, sqlite3.DatabaseError) as exc:
            raise InputError(f"cannot use as the batch database: {exc}", file=str(path)) from exc

    def done_keys(self, keys: Iterable[str], model_version: str) -> set[str]:
        """Which of `keys` already have a row for these models."""
        wanted = list(dict.fromkeys(keys))
        found: set[str] = set()
        for start in range(0, len(wanted), 500):  # SQLite's bound on parameters
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            cur = self._db.execute(
                f"SELECT key FROM results WHERE model_version = ? AND key IN ({marks})",
                [model_version, *chunk],
            )
            found.update(k for (k,) in cur)
        return found

    def keys_of(self, name: str, model_version: str) -> set[str]:
        """Every key stored for project `name` (its files judged in earlier runs)."""
        cur = self._db.execute(
            "SELECT key FROM results WHERE name = ? AND model_version = ?", (name, model_version)
        )
        return {k for (k,) in cur}

    def add(self, rows: Sequence[Row]) -> int:
        """Store `rows` in one transaction; the first judgement of a key wins.
        Returns how many were new."""
        marks = ",".join("?" * len(_COLUMNS))
        with self._db:
            before = self._db.total_changes
            self._db.executemany(
                f"INSERT OR IGNORE INTO results ({','.join(_COLUMNS)}) VALUES ({marks})",
                [tuple(getattr(r, c) for c in _COLUMNS) for r in rows],
            )
            return self._db.total_changes - before

    def rows(self, keys: Iterable[str], model_version: str) -> list[Row]:
        wanted = list(dict.fromkeys(keys))
        out: list[Row] = []
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            cur = self._db.execute(
                f"SELECT {','.join(_COLUMNS)} FROM results "
                f"WHERE model_version = ? AND key IN ({marks})",
                [model_version, *chunk],
            )
            out += [Row(*r) for r in cur]
        return out

    def all_rows(self, model_version: str) -> list[Row]:
        cur = self._db.execute(
            f"SELECT {','.join(_COLUMNS)} FROM results WHERE model_version = ?", (model_version,)
        )
        return [Row(*r) for r in cur]

    def delete_unscanned(self, model_version: str) -> int:
        """Forget unscanned rows, so this run examines those items again."""
        with self._db:
            cur = self._db.execute(
                "DELETE FROM results WHERE model_version = ? AND verdict = 'unscanned'",
                (model_version,),
            )
            return cur.rowcount

    def get_state(self, key: str) -> str | None:
        cur = self._db.execute("SELECT value FROM state WHERE key = ?", (key,))
        found = cur.fetchone()
        return str(found[0]) if found else None

    def set_state(self, key: str, value: str) -> None:
        with self._db:
            self._db.execute(
                "INSERT INTO state (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def close(self) -> None:
        self._db.close()


def open_store(target: str) -> SqliteStore:
    """The store `--db` names (a file path; a `postgresql://` URL would choose the
    PostgreSQL class described in the package docstring)."""
    if "://" in target:
        raise InputError(f"--db {target!r}: only a SQLite file path is supported so far")
    return SqliteStore(Path(target))
