"""The rank modes combine the placement as documented."""

from __future__ import annotations

import pytest

from mphunter_gate.model.index import Placement
from mphunter_gate.model.rscore import negative, positive, rscore


def test_negative_is_relative_closeness_to_malware() -> None:
    on_benign = Placement(0.2, 0.0, 0.8, "m")
    on_malware = Placement(0.2, 0.8, 0.0, "m")
    halfway = Placement(0.2, 0.4, 0.4, "m")
    assert negative(on_benign) == 0.0
    assert negative(on_malware) == 1.0
    assert negative(halfway) == 0.5


def test_modes() -> None:
    p = Placement(
        outlierness=0.9, benign_distance=0.3, malicious_distance=0.1, nearest_malicious=None
    )
    assert rscore(p, "positive") == positive(p) == 0.9
    assert rscore(p, "negative") == pytest.approx(0.75)
    assert rscore(p, "p&n") == pytest.approx((0.9 + 0.75) / 2)
    with pytest.raises(ValueError):
        rscore(p, "sideways")
