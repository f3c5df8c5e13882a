"""Look-alike names: the four kinds of resemblance, the popularity rule, the data file,
and the extra scrutiny a look-alike package's files get."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mphunter_gate.policy.lookalike import PopularNames, check, how_alike, resembles
from mphunter_gate.types import HitLevel

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("name", "target", "how"),
    [
        ("reqeusts", "requests", "one edit"),
        ("python-dateutils", "python-dateutil", "one edit"),
        ("Python_DateUtil", None, None),  # the same project, spelt otherwise
        ("pythondateutil", "python-dateutil", "separator"),
        ("djang0", "django", "homoglyph"),
        ("nurnpy", "numpy", "homoglyph"),
        ("dateutil-python", "python-dateutil", "reordering"),
        ("requests", None, None),
        ("boto3", None, None),
        ("tidy-widgets", None, None),
    ],
)
def test_bundled_names(name: str, target: str | None, how: str | None) -> None:
    found = resembles(name)
    assert (found.target, found.how) == (target, how) if target else found is None


def test_popularity_decides_who_imitates_whom() -> None:
    popular = PopularNames({"requests": 6, "requestz": 50, "requestx": 5000})
    assert resembles("requestz", popular) is None  # nearly as downloaded: a project of its own
    found = resembles("requestx", popular)
    assert found is not None and found.target == "requests"
    hit = check("requestx", popular)
    assert hit is not None and hit.level is HitLevel.WARNING and hit.rule == "lookalike-name"
    assert "resembles requests (download rank 6) by one edit" in hit.message


def test_short_names_are_not_compared_by_one_edit() -> None:
    assert how_alike("sixx", "six") is None
    assert how_alike("six", "sx") is None


def test_the_data_file_records_its_provenance_and_the_script_rebuilds_it(tmp_path: Path) -> None:
    head = (ROOT / "mphunter_gate/data/popular_names.tsv").read_text().splitlines()[:9]
    assert any("Source: the env entry's packages/pypi.tsv" in line for line in head)
    assert any("sha256 " in line for line in head)
    src = tmp_path / "pypi.tsv"
    src.write_text(
        "name\tversion\tmonth\trank_among_15000_most_downloaded\tsummary\n"
        "Fancy_Lib\t1.0\t2026-10\t2\tx\nunranked\t0.1\t2020-01\t\ty\nbig\t3.0\t2026-11\t1\tz\n"
    )
    out = tmp_path / "names.tsv"
    res = subprocess.run(
        [sys.executable, str(ROOT / "scripts/build_popular_names.py"), str(src), "--out", str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "2 names" in res.stdout
    rows = [line for line in out.read_text().splitlines() if not line.startswith("#")]
    assert rows == ["big\t1", "fancy-lib\t2"]
    assert PopularNames.parse(out.read_text()).ranks == {"big": 1, "fancy-lib": 2}


def test_a_lookalike_package_gets_extra_scrutiny(tmp_path: Path) -> None:
    """Deeper modules at or above the threshold pass without payload behaviour, except
    in a package named like a popular one."""
    from mphunter_gate.gate import GateOptions, Judge
    from mphunter_gate.types import (
        Finding,
        ParseMode,
        ScriptAnalysis,
        ScriptKind,
        ScriptScore,
        Stage,
        Verdict,
    )
    from mphunter_gate.verdicts import Judged

    (tmp_path / "manifest.json").write_text(json.dumps({"threshold": 0.9, "model_version": "t"}))
    judge = Judge(GateOptions(), tmp_path)
    a = ScriptAnalysis("pkg/x.py", ScriptKind.MODULE, ParseMode.AST, (), stage=Stage.CALL)
    s = ScriptScore("pkg/x.py", 0.95, 0.0, 0.0, 2.0, None, behaviours=("crypto",))
    judged = Judged(None, (a,), (s,))
    base = Finding("reqeusts", "1", "r.whl", Verdict.PASS, None, "")
    assert judge.verdict(judged, base).verdict is Verdict.PASS
    strict = judge.verdict(judged, base, strict=True)
    assert strict.verdict is Verdict.FAIL and "extra scrutiny" in strict.reason
