"""Release age: durations, the cooldown check, and the older release to pin instead."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from packaging.version import Version

from mphunter_gate.config import load_config
from mphunter_gate.errors import InputError
from mphunter_gate.policy.age import (
    Cooldown,
    check,
    humanize,
    newest_old_enough,
    parse_duration,
    upload_time,
)
from mphunter_gate.types import DistFile, FileKind, HitLevel

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
WEEK = Cooldown(timedelta(days=7), NOW)


def _file(name: str, age: timedelta | None, *, yanked: bool = False) -> DistFile:
    stamp = (NOW - age).isoformat().replace("+00:00", "Z") if age is not None else None
    return DistFile(
        name, f"http://127.0.0.1:1/{name}", None, FileKind.SDIST, yanked=yanked, upload_time=stamp
    )


@pytest.mark.parametrize(
    ("text", "hours"),
    [
        ("36h", 36),
        ("7d", 168),
        ("7 days", 168),
        ("1 day", 24),
        ("P7D", 168),
        ("PT36H", 36),
        ("p1dt12h", 36),
        ("1 week 2 days", 216),
        ("2w", 336),
        ("90m", 1.5),
        (" 1.5d ", 36),
    ],
)
def test_durations(text: str, hours: float) -> None:
    assert parse_duration(text) == timedelta(hours=hours)


@pytest.mark.parametrize(
    "text", ["7", "soon", "7 fortnights", "P1M", "P1Y", "P", "0d", "PT0S", "", True, 3.5]
)
def test_bad_durations_are_refused(text: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_a_bad_duration_in_the_config_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.mphunter-gate]\nthreshold = 0.9\nmin-release-age = "P1M"\n'
    )
    with pytest.raises(InputError) as err:
        load_config(tmp_path, environ={})
    assert str(err.value).startswith(f"{tmp_path / 'pyproject.toml'}:3: ")
    good = tmp_path / "good"
    good.mkdir()
    (good / "pyproject.toml").write_text(
        '[tool.mphunter-gate]\nmin-release-age = "7 days"\nmin-release-age-missing = "allow"\n'
    )
    config = load_config(good, environ={})
    assert config.min_release_age == timedelta(days=7) and config.min_release_age_missing == "allow"
    (good / "pyproject.toml").write_text(
        '[tool.mphunter-gate]\nmin-release-age-missing = "maybe"\n'
    )
    with pytest.raises(InputError, match="fail, allow"):
        load_config(good, environ={})


def test_a_release_younger_than_the_policy_fails_with_its_age() -> None:
    hit = check([_file("demo-1.1.tar.gz", timedelta(hours=5, minutes=3))], WEEK)
    assert hit is not None and hit.level is HitLevel.FAIL and hit.rule == "release-age"
    assert hit.message == "uploaded 5 h ago; policy: at least 7 days"
    assert check([_file("demo-1.0.tar.gz", timedelta(days=8))], WEEK) is None


def test_the_newest_judged_file_decides() -> None:
    files = [
        _file("demo-1.0.tar.gz", timedelta(days=90)),
        _file("demo-1.0-py3-none-any.whl", timedelta(hours=2)),
    ]
    hit = check(files, WEEK)
    assert hit is not None and hit.message.startswith("demo-1.0-py3-none-any.whl uploaded 2 h ago")


def test_no_upload_time_is_unscanned_unless_allowed() -> None:
    files = [_file("demo-1.0.tar.gz", None)]
    hit = check(files, WEEK)
    assert hit is not None and hit.level is HitLevel.UNSCANNED and "no upload time" in hit.message
    allowed = check(files, Cooldown(timedelta(days=7), NOW, "allow"))
    assert allowed is not None and allowed.level is HitLevel.WARNING
    unreadable = DistFile("x.tar.gz", "u", None, FileKind.SDIST, upload_time="yesterday")
    assert upload_time(unreadable) is None


def test_the_newest_old_enough_release_that_the_requirement_allows() -> None:
    releases = {
        Version("1.0"): [_file("d-1.0.tar.gz", timedelta(days=60))],
        Version("1.4"): [_file("d-1.4.tar.gz", timedelta(days=20))],
        Version("1.5"): [_file("d-1.5.tar.gz", timedelta(days=10), yanked=True)],
        Version("1.6"): [
            _file("d-1.6.tar.gz", timedelta(days=9)),
            _file("d-1.6.whl", timedelta(days=1)),
        ],
        Version("1.7rc1"): [_file("d-1.7rc1.tar.gz", timedelta(days=8))],
        Version("2.0"): [_file("d-2.0.tar.gz", timedelta(hours=1))],
    }
    found = newest_old_enough(releases, ">=1.0", WEEK, below=Version("2.0"))
    assert found is not None and found.version == "1.4"
    assert newest_old_enough(releases, ">=1.5", WEEK) is None
    assert newest_old_enough(releases, "<1.2", WEEK).version == "1.0"  # type: ignore[union-attr]


def test_humanize() -> None:
    assert humanize(timedelta(minutes=40)) == "40 min"
    assert humanize(timedelta(hours=30)) == "30 h"
    assert humanize(timedelta(days=9)) == "9 days"
    assert humanize(timedelta(days=28)) == "4 weeks"
