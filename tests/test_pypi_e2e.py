"""End to end against the real PyPI (marked `network`, deselected by default).

Run with `python -m pytest -m network`. These check that the README's
quick start really works: real sdists, real setup.py files, the bundled
models, and that nothing from any package is executed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_gate

pytestmark = pytest.mark.network

ROOT = Path(__file__).resolve().parent.parent


def test_check_the_readme_example(gate_env: dict[str, str]) -> None:
    res = run_gate(
        ["check", str(ROOT / "examples" / "requirements.txt"), "--format", "json"], gate_env
    )
    assert res.returncode in (0, 1), res.stderr
    doc = json.loads(res.stdout)
    names = {r["name"].lower() for r in doc["results"]}
    assert {"requests", "six", "pyyaml", "python-dateutil"} <= names
    six = next(r for r in doc["results"] if r["name"].lower() == "six")
    assert six["verdict"] == "pass" and six["files"], six
    assert all(r["verdict"] != "unscanned" for r in doc["results"]), doc["results"]


def test_check_resolves_loose_ranges(gate_env: dict[str, str], tmp_path: Path) -> None:
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("requests>=2.31,<3\n")
    res = run_gate(["check", str(reqs), "--format", "json"], gate_env)
    assert res.returncode in (0, 1), res.stderr
    names = {r["name"].lower() for r in json.loads(res.stdout)["results"]}
    assert {"requests", "urllib3", "idna", "certifi", "charset-normalizer"} <= names
