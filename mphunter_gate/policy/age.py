"""Release age ("cooldown"): refuse releases younger than a policy duration.

Most malicious and compromised releases are found and removed within hours
to days of upload; uv (`exclude-newer = "7 days"`), pip
(`--uploaded-prior-to`), pnpm and Renovate let users wait that long. The
index says when each file was uploaded (PEP 700 `upload-time`); a release is
as young as its newest judged file, since a wheel added to an old release
later is exactly how a release is poisoned after the fact.

A file without an upload time cannot be shown old enough: the row is
unscanned-by-policy unless the user chose `min-release-age-missing = "allow"`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from mphunter_gate.types import DistFile, HitLevel, PolicyHit

RULE = "release-age"
MISSING_CHOICES = ("fail", "allow")

_UNITS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hr": 3600,
    "hour": 3600,
    "d": 86400,
    "day": 86400,
    "w": 604800,
    "week": 604800,
}
_PART = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*,?")
_ISO = re.compile(
    r"^P(?:(?P<w>\d+(?:\.\d+)?)W)?(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)


def parse_duration(text: object) -> timedelta:
    """`36h`, `7d`, `7 days`, `1 week 2 days`, or ISO 8601 `P7D` / `PT36H`.

    Years and months are refused (their length varies, and a security policy
    must mean one thing); so is zero or anything unreadable. Raises ValueError
    with a message that reads well after "min-release-age: ".
    """
    if isinstance(text, bool) or not isinstance(text, str | int):
        raise ValueError(f"expected a duration like '7 days', '36h' or 'P7D', got {text!r}")
    raw = str(text).strip()
    value = raw.lower()
    seconds: float | None = None
    iso = _ISO.match(raw.upper())
    if iso and raw.upper() not in ("P", "PT") and not raw.upper().endswith("T"):
        parts = {k: float(v) for k, v in iso.groupdict().items() if v}
        seconds = (
            parts.get("w", 0) * 604800
            + parts.get("d", 0) * 86400
            + parts.get("h", 0) * 3600
            + parts.get("m", 0) * 60
            + parts.get("s", 0)
        )
    elif value:
        pos, total = 0, 0.0
        while pos < len(value):
            part = _PART.match(value, pos)
            if part is None:
                break
            unit = part.group(2)
            unit = unit[:-1] if unit.endswith("s") and unit[:-1] in _UNITS else unit
            if unit not in _UNITS:
                raise ValueError(
                    f"unknown unit {part.group(2)!r} in {raw!r} (use s, m, h, d, w or ISO 8601 "
                    "like P7D; years and months are refused)"
                )
            total += float(part.group(1)) * _UNITS[unit]
            pos = part.end()
        if pos == len(value):
            seconds = total
    if seconds is None:
        raise ValueError(f"expected a duration like '7 days', '36h' or 'P7D', got {raw!r}")
    if seconds <= 0:
        raise ValueError(f"must be longer than zero, got {raw!r}")
    return timedelta(seconds=seconds)


def parse_missing(value: object) -> str:
    """`min-release-age-missing`: `fail` (the default: fail closed) or `allow`."""
    if value not in MISSING_CHOICES:
        raise ValueError(f"expected one of {', '.join(MISSING_CHOICES)}, got {value!r}")
    return str(value)


def upload_time(file: DistFile) -> datetime | None:
    """The file's PEP 700 upload time as an aware datetime; None if absent or unreadable."""
    if not file.upload_time:
        return None
    text = file.upload_time.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


def humanize(delta: timedelta) -> str:
    """`40 min`, `5 h`, `3 days`: the precision a cooldown message needs."""
    seconds = max(delta.total_seconds(), 0)
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 2 * 86400:
        return f"{int(seconds // 3600)} h"
    days = seconds / 86400
    return f"{int(days)} days" if days < 14 or days % 7 else f"{int(days // 7)} weeks"


def describe(policy: timedelta) -> str:
    """The policy as the user would say it: `7 days`, `36 hours`."""
    seconds = int(policy.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0 and seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds} seconds"


@dataclass(frozen=True)
class Cooldown:
    """The policy of one run: releases must be at least `min_age` old at `now`."""

    min_age: timedelta
    now: datetime
    missing: str = "fail"

    @property
    def cutoff(self) -> datetime:
        """Files uploaded after this are too new."""
        return self.now - self.min_age


@dataclass(frozen=True)
class Suggestion:
    """The newest release that a loose requirement allows and the policy accepts."""

    version: str
    uploaded: datetime


def check(files: Sequence[DistFile], policy: Cooldown) -> PolicyHit | None:
    """The hit for a release judged by `files` (None: old enough).

    The newest file decides. A file with no upload time makes the release
    unknown: unscanned, or (with `missing = "allow"`) a warning that says the
    policy could not be applied.
    """
    if not files:
        return None
    unknown = [f.filename for f in files if upload_time(f) is None]
    if unknown:
        message = (
            f"the index gives no upload time for {unknown[0]}"
            + (f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else "")
            + f"; policy: at least {describe(policy.min_age)} old"
        )
        if policy.missing == "allow":
            return PolicyHit(RULE, HitLevel.WARNING, message + " (not applied: missing = allow)")
        return PolicyHit(RULE, HitLevel.UNSCANNED, message)
    newest = max(files, key=lambda f: upload_time(f) or policy.now)
    when = upload_time(newest)
    assert when is not None
    if when <= policy.cutoff:
        return None
    which = f"{newest.filename} " if len(files) > 1 else ""
    return PolicyHit(
        RULE,
        HitLevel.FAIL,
        f"{which}uploaded {humanize(policy.now - when)} ago; "
        f"policy: at least {describe(policy.min_age)}",
    )


def newest_old_enough(
    releases: Mapping[Version, Iterable[DistFile]],
    specifier: str,
    policy: Cooldown,
    below: Version | None = None,
) -> Suggestion | None:
    """The newest final release that `specifier` allows whose every file is old
    enough (yanked files ignored, as pip ignores them): what to pin instead."""
    try:
        spec = SpecifierSet(specifier)
    except InvalidSpecifier:
        return None
    for version in sorted(releases, reverse=True):
        if version.is_prerelease or (below is not None and version >= below):
            continue
        if not spec.contains(version, prereleases=False):
            continue
        files = [f for f in releases[version] if not f.yanked]
        times = [upload_time(f) for f in files]
        if not files or any(t is None for t in times):
            continue
        newest = max(t for t in times if t is not None)
        if newest <= policy.cutoff:
            return Suggestion(str(version), newest)
    return None
