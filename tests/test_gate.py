"""gate.py helpers that shape what the report says about unscanned dependencies."""

from __future__ import annotations

import pytest

from mphunter_gate.gate import _declared


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("canary-pkg==0.1.0", ("canary-pkg", "0.1.0")),
        ("Tidy_Widgets===2.0 ; python_version > '3'", ("Tidy_Widgets", "2.0")),
        ("requests>=2,<3", ("requests", "")),
        ("pkg==1.*", ("pkg", "")),
        (
            "pkg @ https://example.com/pkg-1.0.tar.gz",
            ("pkg @ https://example.com/pkg-1.0.tar.gz", ""),
        ),
        ("./vendor/localpkg", ("./vendor/localpkg", "")),
    ],
)
def test_declared_name_and_pin_of_an_unscanned_dependency(
    text: str, expected: tuple[str, str]
) -> None:
    assert _declared(text) == expected
