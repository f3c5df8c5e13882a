"""Malware advisories: OSV matching, loading trees and zips, the cached update, the gate."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from mphunter_gate.errors import InfraError, InputError
from mphunter_gate.policy import advisories
from mphunter_gate.policy.advisories import AdvisoryDB, load, parse_record, update
from tests.policy.conftest import Served, mal_record, vuln_record, write_tree, zip_bytes


def _db(*records: dict) -> AdvisoryDB:
    parsed = [parse_record(json.dumps(r), "x.json") for r in records]
    return AdvisoryDB("test", tuple(a for a in parsed if a is not None))


def test_a_listed_version_matches_under_any_spelling_of_the_name() -> None:
    db = _db(mal_record(name="Evil_Widgets", versions=["1.0"], events=[{"introduced": "9"}]))
    assert [a.id for a in db.matches("evil-widgets", "1.0")] == ["MAL-2026-1234"]
    assert db.matches("EVIL.widgets", "1.0.0")  # PEP 440: 1.0.0 == 1.0
    assert not db.matches("evil-widgets", "2.0")
    assert not db.matches("good-widgets", "1.0")
    (hit,) = db.hits("evil-widgets", "1.0")
    assert hit.message == "MAL-2026-1234: Malicious code in evil-widgets (PyPI)"
    assert hit.rule == "known-malware" and hit.advisory == "MAL-2026-1234"


@pytest.mark.parametrize(
    ("events", "affected", "clean"),
    [
        ([{"introduced": "0"}], ["0.1", "99.0", "1.0rc1"], []),
        ([{"introduced": "1.0"}, {"fixed": "1.2"}], ["1.0", "1.1.5"], ["0.9", "1.2", "2.0"]),
        ([{"introduced": "0"}, {"last_affected": "1.1"}], ["1.1", "0.1"], ["1.1.1", "2"]),
        ([{"introduced": "0"}, {"limit": "2.0"}], ["1.9"], ["2.0", "3.0"]),
        (
            [{"introduced": "1.0"}, {"fixed": "1.1"}, {"introduced": "2.0"}],
            ["1.0", "2.0", "5.0"],
            ["1.1", "1.9"],
        ),
        ([{"introduced": "not a version"}, {"fixed": "also not"}], ["0.1", "5.0"], []),
    ],
)
def test_ecosystem_ranges_follow_the_osv_evaluation(
    events: list[dict[str, str]], affected: list[str], clean: list[str]
) -> None:
    db = _db(mal_record(events=events))
    for v in affected:
        assert db.matches("evil-widgets", v), v
    for v in clean:
        assert not db.matches("evil-widgets", v), v


def test_vulnerabilities_withdrawn_and_other_ecosystems_are_not_malware() -> None:
    assert parse_record(json.dumps(vuln_record()), "v.json") is None
    withdrawn = mal_record(withdrawn="2026-11-21T00:00:00Z")
    assert parse_record(json.dumps(withdrawn), "w.json") is None
    assert parse_record(json.dumps(mal_record(ecosystem="npm")), "n.json") is None
    # a record aliasing a MAL id is malware under that id
    alias = vuln_record("GHSA-aaaa-bbbb-cccc", "evil-widgets") | {"aliases": ["MAL-2026-9"]}
    parsed = parse_record(json.dumps(alias), "g.json")
    assert parsed is not None and parsed.id == "MAL-2026-9"


def test_a_tree_like_a_malicious_packages_checkout_loads(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "checkout",
        [
            mal_record(),
            mal_record("MAL-2026-2", "other-evil", modified="2026-11-25T00:00:00Z"),
            mal_record("MAL-2026-3", "gone", withdrawn="2026-11-26T00:00:00Z"),
        ],
    )
    db = load(root / "osv" / "malicious" / "pypi")
    assert [a.id for a in db.advisories] == ["MAL-2026-1234", "MAL-2026-2"]
    when, basis = db.as_of
    assert basis == "newest record" and when == datetime(2026, 11, 25, tzinfo=timezone.utc)


def test_an_osv_zip_loads_and_skips_vulnerabilities(tmp_path: Path) -> None:
    path = tmp_path / "all.zip"
    path.write_bytes(zip_bytes([mal_record(), vuln_record()]))
    db = load(path)
    assert [a.id for a in db.advisories] == ["MAL-2026-1234"]
    assert db.fetched is None  # no fetch record beside a zip given by hand


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('{\n  "id": "MAL-2026-1",\n  "affected": [\n}', 4, "invalid JSON"),
        ('{\n  "id": "MAL-2026-1",\n  "affected": {"x": 1}\n}', 3, "'affected' must be a list"),
        (
            '{\n "id": "MAL-2026-1",\n "affected": [{\n  "package": {"name": "x"}\n }]\n}',
            4,
            "needs an ecosystem and a name",
        ),
        (
            json.dumps(mal_record(events=[{"introduced": "0", "fixed": "1"}]), indent=1),
            None,
            "an event must be one of",
        ),
        ('["MAL-2026-1"]', 1, "not an OSV record"),
    ],
)
def test_a_malformed_record_is_one_line_naming_file_and_line(
    tmp_path: Path, text: str, line: int | None, message: str
) -> None:
    path = tmp_path / "tree" / "MAL-2026-1.json"
    path.parent.mkdir()
    path.write_text(text)
    with pytest.raises(InputError) as err:
        load(path.parent)
    if line is None:
        line = next(i for i, t in enumerate(text.splitlines(), 1) if '"events"' in t)
    assert str(err.value).startswith(f"{path}:{line}: ")
    assert message in str(err.value) and "\n" not in str(err.value)


def test_a_source_without_malware_records_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no PyPI malware record"):
        load(tmp_path / "empty")
    with pytest.raises(InputError, match="no such advisory"):
        load(tmp_path / "missing")
    (tmp_path / "bad.zip").write_bytes(b"not a zip")
    with pytest.raises(InputError, match="readable zip"):
        load(tmp_path / "bad.zip")


def test_update_replaces_the_cache_atomically_and_records_the_fetch_time(
    served: Served, tmp_path: Path
) -> None:
    url = served.add("/osv/PyPI/all.zip", zip_bytes([mal_record(), vuln_record()]))
    when = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
    done = update(url, tmp_path / "adv", now=when)
    assert done.path == advisories.cache_file(tmp_path / "adv") and done.records == 1
    db = load(done.path)
    assert db.fetched == when and db.as_of == (when, "fetched")
    assert db.data(when + timedelta(days=3)).stale is False
    assert db.data(when + timedelta(days=8)).stale is True
    assert sorted(p.name for p in (tmp_path / "adv").iterdir()) == [
        "pypi-all.zip",
        "pypi-all.zip.json",
    ]
    before = done.path.read_bytes()
    # a failing or garbled download never replaces good data, and leaves no temporary file
    served.add("/osv/broken.zip", b"<html>oops</html>")
    with pytest.raises(InfraError, match="did not serve usable advisories"):
        update(served.url + "/osv/broken.zip", tmp_path / "adv")
    with pytest.raises(InfraError, match="answered 404"):
        update(served.url + "/osv/missing.zip", tmp_path / "adv")
    assert done.path.read_bytes() == before
    assert len(list((tmp_path / "adv").iterdir())) == 2
    assert load(done.path).fetched == when
