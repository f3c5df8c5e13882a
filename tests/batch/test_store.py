"""The SQLite store: one row per key and model version, WAL, state, bad files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from mphunter_gate.batch.rows import unscanned_row
from mphunter_gate.batch.store import SqliteStore, open_store
from mphunter_gate.errors import InputError


def _row(key: str, model: str = "m1", verdict: str = "pass"):
    row = unscanned_row(key, "pkg", "1.0", "pkg-1.0.tar.gz", key, "why", model)
    return row.__class__(**{**row.__dict__, "verdict": verdict})


def test_first_judgement_wins_and_reruns_see_it(tmp_path: Path) -> None:
    db = tmp_path / "r.sqlite"
    store = SqliteStore(db)
    assert store.add([_row("a"), _row("b")]) == 2
    assert store.add([_row("a", verdict="fail")]) == 0  # already judged: kept as it was
    assert store.done_keys(["a", "b", "c"], "m1") == {"a", "b"}
    assert store.done_keys(["a"], "m2") == set()  # new models judge again
    assert store.keys_of("pkg", "m1") == {"a", "b"}
    assert [r.verdict for r in store.rows(["a"], "m1")] == ["pass"]
    store.close()
    mode = sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_state_and_unscanned_reset(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "r.sqlite")
    assert store.get_state("serial:x") is None
    store.set_state("serial:x", "5")
    store.set_state("serial:x", "9")
    assert store.get_state("serial:x") == "9"
    store.add([_row("u", verdict="unscanned"), _row("p")])
    assert store.delete_unscanned("m1") == 1
    assert store.done_keys(["u", "p"], "m1") == {"p"}


def test_a_file_that_is_no_database_is_an_input_error(tmp_path: Path) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("not a database, just text " * 100)
    with pytest.raises(InputError, match=r"notes\.txt"):
        SqliteStore(bad)
    with pytest.raises(InputError, match="postgresql"):
        open_store("postgresql://db.example/batch")
