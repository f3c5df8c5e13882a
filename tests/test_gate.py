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


def _judge(tmp_path, module_threshold: float | None, threshold: float | None = None):
    import json

    from mphunter_gate.gate import GateOptions, Judge

    scoring = {} if module_threshold is None else {"module_threshold": module_threshold}
    (tmp_path / "manifest.json").write_text(
        json.dumps({"threshold": 0.9, "model_version": "t", "scoring": scoring})
    )
    return Judge(GateOptions(threshold=threshold), tmp_path)


def _judged(kind, stage, score: float):
    from mphunter_gate.types import ParseMode, ScriptAnalysis, ScriptScore
    from mphunter_gate.verdicts import Judged

    a = ScriptAnalysis("pkg/x.py", kind, ParseMode.AST, (), stage=stage)
    return Judged(None, (a,), (ScriptScore("pkg/x.py", score, 0.0, 0.0, 2.0, None),))


@pytest.mark.parametrize(
    ("kind", "stage", "verdict"),
    [
        ("module", "call", "pass"),
        ("module", "entry-point", "pass"),
        ("module", "import", "pass"),
        ("module", "install", "fail"),  # setup.py's helpers: what calibration saw
        ("__init__.py", "import", "fail"),
        ("setup.py", "install", "fail"),
        (".pth", "startup", "fail"),
    ],
)
def test_modules_calibration_never_saw_are_held_to_the_module_threshold(
    tmp_path, kind: str, stage: str, verdict: str
) -> None:
    from mphunter_gate.types import Finding, ScriptKind, Stage, Verdict

    judge = _judge(tmp_path, 0.97)
    base = Finding("pkg", "1", "pkg.whl", Verdict.PASS, None, "")
    found = judge.verdict(_judged(ScriptKind(kind), Stage(stage), 0.95), base)
    assert found.verdict.value == verdict, found.reason


def test_the_module_threshold_is_never_below_the_threshold_and_yields_to_the_flag(
    tmp_path,
) -> None:
    assert _judge(tmp_path, 0.5).module_threshold == 0.9
    assert _judge(tmp_path, None).module_threshold == 0.9
    assert _judge(tmp_path, 0.97, threshold=0.6).module_threshold == 0.6
