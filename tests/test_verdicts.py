"""The verdict cache: exact round trip, keyed by model and options, misses never raise."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from mphunter_gate.types import (
    ApiCall,
    Decoded,
    Indicator,
    ParseMode,
    ScriptAnalysis,
    ScriptKind,
    ScriptScore,
)
from mphunter_gate.verdicts import Judged, VerdictCache

SHA = "ab" * 32


def _judged() -> Judged:
    seq = (ApiCall("os.system", "pkg-1.0/setup.py", 12), ApiCall("base64.b64decode", "x", 3))
    analysis = ScriptAnalysis(
        path="pkg-1.0/setup.py",
        kind=ScriptKind.SETUP,
        parse=ParseMode.AST,
        sequences=(seq, seq[::-1]),
        decoded=(Decoded("pkg-1.0/setup.py", 3, "base64", "echo hi"),),
        indicators=(Indicator("shell_interpreter", "pkg-1.0/setup.py", 12, "powershell"),),
        truncated=True,
    )
    score = ScriptScore(
        "pkg-1.0/setup.py",
        0.93,
        0.8,
        0.4,
        0.1,
        "evil__1.0/setup.py",
        rscore=0.7,
        behaviours=("process", "decoded"),
    )
    return Judged(note=None, analyses=(analysis,), scores=(score,))


def test_round_trip_is_exact(tmp_path: Path) -> None:
    cache = VerdictCache(tmp_path, "mph-1", {"graph_mode": "cfg+cg"})
    assert cache.get(SHA) is None
    cache.put(SHA, _judged())
    assert cache.get(SHA) == _judged()


def test_other_model_or_options_miss(tmp_path: Path) -> None:
    VerdictCache(tmp_path, "mph-1", {"graph_mode": "cfg+cg"}).put(SHA, _judged())
    assert VerdictCache(tmp_path, "mph-2", {"graph_mode": "cfg+cg"}).get(SHA) is None
    assert VerdictCache(tmp_path, "mph-1", {"graph_mode": "cg"}).get(SHA) is None


def test_corrupt_entry_is_a_miss(tmp_path: Path) -> None:
    cache = VerdictCache(tmp_path, "mph-1", {})
    cache.put(SHA, _judged())
    (entry,) = (tmp_path / "verdicts").rglob(f"{SHA}.json")
    entry.write_text("{not json")
    assert cache.get(SHA) is None


def test_compact_keeps_what_reports_read() -> None:
    from mphunter_gate.verdicts import MAX_KEPT_CALLS, compact

    [a] = _judged().analyses
    small = compact(a)
    assert small.calls == a.calls and small.sequences == (a.calls,)
    many = tuple(ApiCall(f"m.f{i}", a.path, i) for i in range(MAX_KEPT_CALLS + 50))
    big = compact(ScriptAnalysis(a.path, a.kind, a.parse, (many,)))
    assert big.calls == many[:MAX_KEPT_CALLS]


def test_file_memo_repaths_a_byte_identical_file() -> None:
    from mphunter_gate.types import Stage
    from mphunter_gate.verdicts import FileMemo

    judged = _judged()
    memo = FileMemo()
    key = FileMemo.key("text", ScriptKind.SETUP, Stage.INSTALL)
    memo.put(key, judged.analyses[0], judged.scores[0])
    assert memo.get(FileMemo.key("text", ScriptKind.SETUP, Stage.CALL), "x") is None
    hit = memo.get(key, "other-1.0/setup.py")
    assert hit is not None
    a, s = hit
    assert a.path == s.path == "other-1.0/setup.py"  # type: ignore[union-attr]
    assert [c.file for c in a.calls] == ["other-1.0/setup.py", "x"]  # other files stay
    assert a.decoded[0].file == a.indicators[0].file == "other-1.0/setup.py"


def test_compact_keeps_important_calls_met_late() -> None:
    from mphunter_gate.verdicts import MAX_KEPT_CALLS, compact

    plain = tuple(ApiCall(f"m.f{i}", "x.py", i) for i in range(MAX_KEPT_CALLS + 50))
    late = ApiCall("os.system", "x.py", 9999)
    a = ScriptAnalysis("x.py", ScriptKind.MODULE, ParseMode.AST, ((*plain, late),))
    kept = compact(a, important=lambda api: api == "os.system").calls
    assert kept == (*plain[:MAX_KEPT_CALLS], late)


def test_file_store_answers_a_later_run(tmp_path: Path) -> None:
    from mphunter_gate.types import Stage
    from mphunter_gate.verdicts import FileMemo, FileStore

    judged = _judged()
    analysis = dataclasses.replace(judged.analyses[0], truncated=False)
    key = FileMemo.key("text", ScriptKind.SETUP, Stage.INSTALL)
    first = FileStore(tmp_path / "files.sqlite3")
    FileMemo(first).put(key, analysis, judged.scores[0])
    first.close()
    later = FileMemo(FileStore(tmp_path / "files.sqlite3"))  # a new process, a new memo
    [hit] = later.get_many([key], ["other-1.0/setup.py"])
    assert hit is not None
    a, s = hit
    assert a.path == "other-1.0/setup.py"
    assert s == dataclasses.replace(judged.scores[0], path="other-1.0/setup.py")
    assert a.calls == compact_calls(analysis, "other-1.0/setup.py")
    assert a.decoded[0].file == "other-1.0/setup.py" and a.indicators == tuple(
        dataclasses.replace(i, file="other-1.0/setup.py") for i in analysis.indicators
    )
    assert (
        FileMemo(FileStore(tmp_path / "files.sqlite3")).get(
            FileMemo.key("text", ScriptKind.SETUP, Stage.CALL), "x"
        )
        is None
    )


def compact_calls(a: ScriptAnalysis, path: str) -> tuple[ApiCall, ...]:
    return tuple(dataclasses.replace(c, file=path) if c.file == a.path else c for c in a.calls)


def test_file_store_keeps_no_cut_or_failed_analysis(tmp_path: Path) -> None:
    """A cut may be the machine's doing (the time limit under load): the next run retries."""
    from mphunter_gate.types import Stage
    from mphunter_gate.verdicts import FileMemo, FileStore

    [a] = _judged().analyses
    cut = dataclasses.replace(a, truncated=True)
    a = dataclasses.replace(a, truncated=False)
    failed = ScriptAnalysis(a.path, a.kind, ParseMode.FAILED, (), error="boom")
    keys = [FileMemo.key(t, ScriptKind.SETUP, Stage.INSTALL) for t in ("cut", "failed")]
    memo = FileMemo(FileStore(tmp_path / "files.sqlite3"))
    memo.put_many([(keys[0], cut, None), (keys[1], failed, None)])
    assert memo.get(keys[0], a.path) is not None  # this run remembers them
    assert FileMemo(FileStore(tmp_path / "files.sqlite3")).get_many(keys, [a.path] * 2) == [
        None,
        None,
    ]


def test_file_store_that_cannot_open_is_a_miss(tmp_path: Path) -> None:
    from mphunter_gate.types import Stage
    from mphunter_gate.verdicts import FileMemo, FileStore

    (tmp_path / "files.sqlite3").write_text("not a database, and more than a header " * 20)
    a = dataclasses.replace(_judged().analyses[0], truncated=False)
    memo = FileMemo(FileStore(tmp_path / "files.sqlite3"))
    key = FileMemo.key("t", ScriptKind.SETUP, Stage.INSTALL)
    memo.put(key, a, None)  # logged, not raised
    assert FileMemo(FileStore(tmp_path / "files.sqlite3")).get(key, a.path) is None
