"""Yanked releases (PEP 592), judged by pip's rule.

A yanked file is one its maintainers withdrew, usually because it is broken
and sometimes because it is malicious. pip still installs it when a
requirement pins it exactly (`==1.0`, `===1.0`), with a warning, and never
otherwise. The gate follows that: pinned exactly, a warning with the yank
reason; picked any other way (a target on which only a yanked file fits),
a failure, since pip would not install it that way and a user relying on
the gate should not either.
"""

from __future__ import annotations

from collections.abc import Sequence

from mphunter_gate.types import DistFile, HitLevel, PolicyHit

RULE = "yanked-release"


def check(installed: Sequence[DistFile], *, exact: bool) -> PolicyHit | None:
    """The hit for a release whose files pip would install are `installed`
    (None: none of them is yanked); `exact` says whether it was pinned with `==`/`===`."""
    yanked = [f for f in installed if f.yanked]
    if not yanked:
        return None
    reason = next((f.yanked_reason for f in yanked if f.yanked_reason), None)
    what = (
        "release is yanked" if len(yanked) == len(installed) else f"{yanked[0].filename} is yanked"
    )
    what += f" (reason: {reason})" if reason else " (no reason given)"
    if exact:
        return PolicyHit(RULE, HitLevel.WARNING, f"{what}; pinned exactly, so pip installs it")
    return PolicyHit(
        RULE,
        HitLevel.FAIL,
        f"{what}; pip installs a yanked release only when pinned with == or ===",
    )
