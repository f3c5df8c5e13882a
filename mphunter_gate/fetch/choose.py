"""Which files of a release to judge: the one pip installs on each target, and the sdist.

A verdict must cover what gets installed. pip installs the best-fitting
wheel whenever one exists and builds the sdist only when none fits, so a
release with a clean sdist and a poisoned wheel is judged by its wheel.
The sdist is judged as well whenever the release has one: a poisoned sdist
is malware too, and it is what runs wherever no wheel fits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from mphunter_gate.target import Target
from mphunter_gate.types import DistFile, Distribution, FileKind


@dataclass(frozen=True)
class Pick:
    """One file to judge, and the targets (labels) on which pip would install it.

    An empty `installs_on` is the sdist judged for its own sake while a
    wheel is what installs on every requested target.
    """

    file: DistFile
    installs_on: tuple[str, ...]


def _build_tag(filename: str) -> tuple[int, str] | tuple[()]:
    try:
        return parse_wheel_filename(filename)[2]
    except InvalidWheelFilename:
        return ()


def installer_file(files: Sequence[DistFile], target: Target) -> DistFile | None:
    """The file pip would install from one release's `files` on `target`.

    pip's order (`CandidateEvaluator._sort_key`): a wheel beats an sdist; among
    wheels the one whose best tag comes first in the target's tag priority,
    then the higher build tag; among equals, the first the index lists. A
    yanked file is only taken when nothing else fits (pip takes it only for an
    exact pin, so judging it otherwise costs a scan and hides nothing).
    """
    fitting = [f for f in files if target.supports_python(f.requires_python)]
    for pool in ([f for f in fitting if not f.yanked], fitting):
        ranked = []
        for i, f in enumerate(pool):
            rank = target.wheel_rank(f.filename) if f.kind is FileKind.WHEEL else None
            if rank is not None:
                ranked.append(((-rank, _build_tag(f.filename), -i), f))
        if ranked:
            return max(ranked, key=lambda r: r[0])[1]
        sdists = [f for f in pool if f.kind is FileKind.SDIST]
        if sdists:
            return sdists[0]
    return None


def picks(dist: Distribution, targets: Sequence[Target]) -> list[Pick]:
    """Every file of `dist` to judge: each target's installer pick (the first
    target's first), then the sdist if not already among them.

    Files outside the dependency file's `--hash` pins are never considered:
    pip would refuse them.
    """
    allowed = dist.hashes
    files = [f for f in dist.files if not allowed or f.sha256 in allowed]
    chosen: dict[str, tuple[DistFile, list[str]]] = {}
    for target in targets:
        f = installer_file(files, target)
        if f is not None:
            chosen.setdefault(f.filename, (f, []))[1].append(target.label)
    sdists = [f for f in files if f.kind is FileKind.SDIST]
    sdist = next((f for f in sdists if not f.yanked), sdists[0] if sdists else None)
    if sdist is not None:
        chosen.setdefault(sdist.filename, (sdist, []))
    return [Pick(f, tuple(dict.fromkeys(labels))) for f, labels in chosen.values()]
