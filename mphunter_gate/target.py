"""The machine a dependency set is installed on: its marker values and wheel tags.

Resolution needs it to evaluate markers and to know which releases have a
file pip could install; the fetch stage needs it to pick the very file pip
would install there (the best wheel by pip's tag priority, else the sdist).
One definition serves both, so "what resolves" and "what is judged" cannot
disagree about a target.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import lru_cache

from packaging import tags as ptags
from packaging.markers import (
    Marker,
    UndefinedComparison,
    UndefinedEnvironmentName,
    default_environment,
)
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion

from mphunter_gate.types import DistFile, FileKind

log = logging.getLogger(__name__)


#: Marker variables a lock uses to say which of its groups and extras an entry is for.
_SELECTION_VARIABLES = re.compile(r"\b(?:dependency_groups|extras)\b")


@dataclass(frozen=True)
class Target:
    """The interpreter and platform we resolve for: marker values and wheel tags."""

    python_version: str
    python_full_version: str
    platform: str | None
    markers: Mapping[str, str] = field(repr=False)
    #: Every wheel tag this target accepts ("cp311-cp311-manylinux_2_17_x86_64", ...) and its
    #: priority, 0 best: pip installs the wheel whose best tag comes first in this order.
    tags: Mapping[str, int] = field(repr=False)

    @classmethod
    def create(cls, python_version: str | None = None, platform: str | None = None) -> Target:
        """The running interpreter, overridden by `python_version` ("3.10", "3.10.4")
        and/or `platform` (a wheel platform tag: "manylinux_2_17_x86_64",
        "linux_aarch64", "win_amd64", "macosx_11_0_arm64")."""
        env: dict[str, str] = {k: str(v) for k, v in default_environment().items()}
        if python_version is None and platform is None:
            full = env["python_full_version"]
            return cls(env["python_version"], full, None, env, _tag_ranks(ptags.sys_tags()))
        if python_version is not None:
            parts = python_version.split(".")
            if len(parts) < 2 or not all(p.isdigit() for p in parts):
                raise ValueError(
                    f"python version must look like 3.11 or 3.11.4, not {python_version!r}"
                )
            short = ".".join(parts[:2])
            full = python_version if len(parts) >= 3 else f"{short}.0"
            env.update(python_version=short, python_full_version=full, implementation_version=full)
        version = tuple(int(p) for p in env["python_version"].split("."))
        platforms = _platform_tags(platform) if platform else list(ptags.platform_tags())
        if platform:
            env.update(_platform_markers(platform))
        tag_set = [
            *ptags.cpython_tags(python_version=version, platforms=platforms),
            *ptags.compatible_tags(
                python_version=version,
                interpreter=f"cp{version[0]}{version[1]}",
                platforms=platforms,
            ),
        ]
        return cls(
            env["python_version"], env["python_full_version"], platform, env, _tag_ranks(tag_set)
        )

    def evaluate(self, marker: Marker | None, extras: Iterable[str] = ("",)) -> bool:
        """Whether `marker` holds here for any of `extras` ("" = no extra).

        A marker we cannot evaluate counts as true: including a package we
        did not need costs a scan; excluding one we did need hides it.
        """
        if marker is None:
            return True
        if _SELECTION_VARIABLES.search(str(marker)):
            # `'dev' in dependency_groups` (pylock, and pipenv's develop section) or
            # `'x' in extras`: which groups get installed is the installer's choice, not
            # the target's, and a gate judges every group.
            return True
        for extra in extras:
            env: dict[str, str | AbstractSet[str]] = {
                **self.markers,
                "extra": extra,
                "extras": frozenset(),
                "dependency_groups": frozenset(),
            }
            try:
                if marker.evaluate(env):
                    return True
            except (
                UndefinedComparison,
                UndefinedEnvironmentName,
                InvalidVersion,
                TypeError,
            ) as exc:
                log.debug("cannot evaluate marker %s (%s); treating it as true", marker, exc)
                return True
        return False

    def supports_python(self, requires_python: str | None) -> bool:
        return _python_ok(requires_python, self.python_full_version)

    def supports_file(self, file: DistFile) -> bool:
        """Could pip install this file here? (sdists always; wheels by tag.)"""
        if not self.supports_python(file.requires_python):
            return False
        if file.kind is not FileKind.WHEEL:
            return True
        file_tags = _wheel_tags(file.filename)  # (the resolver's hottest loop: no ranking here)
        return file_tags is not None and any(t in self.tags for t in file_tags)

    @property
    def label(self) -> str:
        """How reports name this target: `py3.11 manylinux_2_17_x86_64` (platform
        omitted for this machine's own)."""
        return f"py{self.python_version}" + (f" {self.platform}" if self.platform else "")

    def wheel_rank(self, filename: str) -> int | None:
        """pip's priority for a wheel here (lower is preferred); None if it does not fit."""
        file_tags = _wheel_tags(filename)
        if file_tags is None:
            return None
        ranks = [self.tags[t] for t in file_tags if t in self.tags]
        return min(ranks) if ranks else None


def _tag_ranks(tags: Iterable[ptags.Tag]) -> dict[str, int]:
    """Tags in the order pip prefers them (packaging's order), each with its rank."""
    ranks: dict[str, int] = {}
    for tag in tags:
        ranks.setdefault(str(tag), len(ranks))
    return ranks


@lru_cache(maxsize=4096)
def _python_ok(requires_python: str | None, full_version: str) -> bool:
    if not requires_python:
        return True
    try:
        return SpecifierSet(requires_python).contains(full_version, prereleases=True)
    except InvalidSpecifier:
        return True  # PyPI has malformed ones; pip ignores them too


@lru_cache(maxsize=65536)
def _wheel_tags(filename: str) -> frozenset[str] | None:
    """The expanded tags of a wheel file name as `interp-abi-platform` strings.

    Strings, not `packaging.tags.Tag`: checking tens of thousands of file
    names per run is the resolver's hottest loop.
    """
    parts = filename[:-4].lower().split("-")
    if not filename.endswith(".whl") or len(parts) not in (5, 6):
        return None
    interps, abis, plats = (p.split(".") for p in parts[-3:])
    return frozenset(f"{i}-{a}-{p}" for i in interps for a in abis for p in plats)


def _platform_tags(platform: str) -> list[str]:
    """Wheel platform tags a machine of `platform` accepts, best first."""
    if platform.startswith(("manylinux", "linux")):
        arch = re.sub(r"^(manylinux_\d+_\d+|manylinux\d+|linux)_", "", platform)
        glibc = re.match(r"manylinux_2_(\d+)_", platform)
        newest = int(glibc.group(1)) if glibc else 39
        legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
        out = []
        for minor in range(newest, 4, -1):
            out.append(f"manylinux_2_{minor}_{arch}")
            if minor in legacy:
                out.append(f"{legacy[minor]}_{arch}")
        return [*out, f"linux_{arch}"]
    if platform.startswith("musllinux"):
        m = re.match(r"musllinux_1_(\d+)_(.+)", platform)
        if not m:
            return [platform]
        return [f"musllinux_1_{i}_{m.group(2)}" for i in range(int(m.group(1)), -1, -1)]
    if platform.startswith("macosx"):
        m = re.match(r"macosx_(\d+)_(\d+)_(.+)", platform)
        if not m:
            return [platform]
        return list(ptags.mac_platforms((int(m.group(1)), int(m.group(2))), m.group(3)))
    return [platform]


def _platform_markers(platform: str) -> dict[str, str]:
    """Marker values (PEP 508) of a machine with wheel platform tag `platform`."""
    if platform.startswith("win"):
        machine = {"win_amd64": "AMD64", "win32": "x86", "win_arm64": "ARM64"}.get(
            platform, "AMD64"
        )
        return {
            "sys_platform": "win32",
            "platform_system": "Windows",
            "os_name": "nt",
            "platform_machine": machine,
        }
    if platform.startswith("macosx"):
        arch = platform.rsplit("_", 1)[-1]
        return {
            "sys_platform": "darwin",
            "platform_system": "Darwin",
            "os_name": "posix",
            "platform_machine": "arm64" if arch in ("arm64", "universal2") else arch,
        }
    arch = re.sub(r"^(manylinux_\d+_\d+|manylinux\d+|musllinux_\d+_\d+|linux)_", "", platform)
    return {
        "sys_platform": "linux",
        "platform_system": "Linux",
        "os_name": "posix",
        "platform_machine": arch,
    }
