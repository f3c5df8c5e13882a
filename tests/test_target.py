"""Target markers: what the target decides, and what it does not."""

from __future__ import annotations

import pytest
from packaging.markers import Marker

from mphunter_gate.target import Target


@pytest.mark.parametrize(
    "marker",
    [
        "'dev' in dependency_groups",  # pipenv's develop section, pylock.toml
        "'docs' not in dependency_groups",
        "'socks' in extras and python_version >= '3'",
    ],
)
def test_a_lock_s_group_and_extra_selection_counts_as_true(marker: str) -> None:
    """Which groups get installed is the installer's choice: the gate judges every one."""
    assert Target.create("3.11").evaluate(Marker(marker))


def test_the_target_still_decides_its_own_markers() -> None:
    target = Target.create("3.11")
    assert not target.evaluate(Marker("python_version < '3'"))
    assert target.evaluate(Marker("python_version >= '3.10'"))
    assert not target.evaluate(Marker("extra == 'socks'"))  # an extra nobody asked for
