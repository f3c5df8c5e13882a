"""gate.py helpers that shape what the report says about unscanned dependencies."""

from __future__ import annotations

from dataclasses import replace

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


def _judge(tmp_path):
    import json

    from mphunter_gate.gate import GateOptions, Judge

    (tmp_path / "manifest.json").write_text(json.dumps({"threshold": 0.9, "model_version": "t"}))
    return Judge(GateOptions(), tmp_path)


def _judged(kind, stage, score: float, behaviours: tuple[str, ...]):
    from mphunter_gate.types import ParseMode, ScriptAnalysis, ScriptScore
    from mphunter_gate.verdicts import Judged

    a = ScriptAnalysis("pkg/x.py", kind, ParseMode.AST, (), stage=stage)
    s = ScriptScore("pkg/x.py", score, 0.0, 0.0, 2.0, None, behaviours=behaviours)
    return Judged(None, (a,), (s,))


@pytest.mark.parametrize(
    ("kind", "stage", "behaviours", "verdict"),
    [
        ("module", "call", ("crypto",), "pass"),  # a high score alone, beyond calibration
        ("module", "entry-point", ("network", "process", "network+process"), "pass"),
        ("module", "import", ("decode", "dynamic_code", "decode+dynamic_code"), "fail"),
        ("module", "call", ("str:download_execute",), "fail"),
        ("module", "call", ("environment", "network", "flow:environment:all->network"), "fail"),
        ("module", "call", ("environment", "network", "flow:environment->network"), "pass"),
        ("module", "install", ("crypto",), "fail"),  # setup.py's helpers: calibrated
        ("__init__.py", "import", ("crypto",), "fail"),
        ("setup.py", "install", (), "fail"),
        (".pth", "startup", (), "fail"),
    ],
)
def test_modules_beyond_calibration_fail_only_with_payload_behaviour(
    tmp_path, kind: str, stage: str, behaviours: tuple[str, ...], verdict: str
) -> None:
    from mphunter_gate.types import Finding, ScriptKind, Stage, Verdict

    base = Finding("pkg", "1", "pkg.whl", Verdict.PASS, None, "")
    judged = _judged(ScriptKind(kind), Stage(stage), 0.95, behaviours)
    found = _judge(tmp_path).verdict(judged, base)
    assert found.verdict.value == verdict, found.reason
    if verdict == "pass":  # the reason says what passed it, not "below threshold"
        assert found.reason == (
            "1 module(s) beyond the calibrated stages at or above it but doing nothing "
            "payloads do (worst pkg/x.py 0.950)"
        )
    below = _judge(tmp_path).verdict(_judged(ScriptKind(kind), Stage(stage), 0.5, behaviours), base)
    assert below.verdict is Verdict.PASS


def test_the_module_evidence_names_real_behaviours() -> None:
    """Every name in data/module_evidence.toml is one the scorer can fire."""
    from mphunter_gate.analysis.categories import load_rules
    from mphunter_gate.analysis.indicators import names as indicator_names
    from mphunter_gate.gate import module_evidence

    rules = load_rules()
    known = {f"{a}+{b}" for a, b in rules.pairs} | {f"str:{n}" for n in indicator_names()}
    known |= {f"flow:{a}->{b}" for a, b in rules.flows}
    assert module_evidence() <= known


def test_a_later_run_analyses_only_the_files_it_has_not_judged(tmp_path, monkeypatch) -> None:
    """The next release of a project changes a few files: only those are analysed."""
    import mphunter_gate.analysis as analysis
    from mphunter_gate.gate import GateOptions, Judge
    from mphunter_gate.types import Script, ScriptKind, ScriptSet, Stage

    seen: list[str] = []
    real = analysis.analyse

    def counting(script, **kw):
        seen.append(script.path)
        return real(script, **kw)

    monkeypatch.setattr(analysis, "analyse", counting)

    def release(version: str, extra: str) -> ScriptSet:
        same = "import os\nos.system('make')\n"
        scripts = (
            Script(f"pkg-{version}/setup.py", ScriptKind.SETUP, same, Stage.INSTALL),
            Script(f"pkg-{version}/pkg/new.py", ScriptKind.MODULE, extra, Stage.CALL),
        )
        return ScriptSet("pkg", version, f"pkg-{version}.tar.gz", None, scripts)

    options = GateOptions(cache_dir=tmp_path)
    first = Judge(options).analyse(release("1.0", "import subprocess\nsubprocess.run('a')\n"))
    assert seen == ["pkg-1.0/setup.py", "pkg-1.0/pkg/new.py"]
    seen.clear()
    second = Judge(options).analyse(release("1.1", "import socket\nsocket.socket()\n"))
    assert seen == ["pkg-1.1/pkg/new.py"]  # setup.py is byte-identical: judged before
    assert second.scores[0] == replace(first.scores[0], path="pkg-1.1/setup.py")
    assert Judge(GateOptions(cache_dir=tmp_path / "other")).analyse(release("1.1", "x = 1\n"))
    assert seen[1:] == ["pkg-1.1/setup.py", "pkg-1.1/pkg/new.py"]  # another cache knows nothing


@pytest.mark.parametrize("threshold", [float("nan"), 1.5, -0.1, "0.9", None])
def test_a_manifest_threshold_outside_0_1_is_refused(tmp_path, threshold) -> None:
    """A NaN threshold compares false with every score: everything would pass."""
    import json

    from mphunter_gate.errors import ModelError
    from mphunter_gate.gate import GateOptions, Judge

    (tmp_path / "manifest.json").write_text(
        json.dumps({"threshold": threshold, "model_version": "t"})
    )
    with pytest.raises(ModelError, match="threshold") as err:
        _ = Judge(GateOptions(), tmp_path).threshold
    assert err.value.exit_code == 3


def test_scan_refuses_what_is_not_a_regular_file_or_folder(tmp_path) -> None:
    import os

    from mphunter_gate.errors import InputError
    from mphunter_gate.gate import GateOptions, scan

    fifo = tmp_path / "pkg-1.0.tar.gz"
    os.mkfifo(fifo)  # opening it to read would block forever
    with pytest.raises(InputError, match="not a regular file"):
        scan([str(fifo)], GateOptions())
    with pytest.raises(InputError, match="not a regular file"):
        scan(["/dev/zero"], GateOptions())
