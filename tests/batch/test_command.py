"""`mphunter-gate batch` end to end: a local pypiserver, a PEP 691 change feed, the
CLI's own LocalCluster, exit codes, and `check` never importing dask."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from mphunter_gate.cli import main
from tests.batch.conftest import plain_sdist
from tests.batch.test_work import _project_list
from tests.conftest import LocalIndex, run_gate
from tests.fixtures import BENIGN_SETUP, MALICIOUS_SETUP
from tests.policy.conftest import Served

pytestmark = pytest.mark.integration


def _rows(db: Path) -> list[tuple[str, str, str, str]]:
    with sqlite3.connect(db) as con:
        return sorted(con.execute("SELECT name, version, filename, verdict FROM results"))


def test_names_over_a_local_index_with_queue(
    dask_cluster: str,
    local_index: LocalIndex,
    gate_env: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    local_index.add_sdist("tidy-widgets", "1.2.0", BENIGN_SETUP)
    local_index.add_sdist("tidy-widgets", "1.3.0", BENIGN_SETUP)
    local_index.add_sdist("tidy-widgetz", "9.9.9", MALICIOUS_SETUP)
    plain_sdist(local_index.directory, "plain-lib", "2.0")
    names = tmp_path / "names.txt"
    names.write_text("tidy-widgets==1.2.0\ntidy-widgetz\nplain-lib\n")
    db = tmp_path / "batch.sqlite"
    out_json, out_html = tmp_path / "queue.json", tmp_path / "queue.html"
    args = ["batch", "--names", str(names), "--index-url", local_index.url, "--db", str(db)]
    args += ["--scheduler", dask_cluster, "--top", "2", "--queue", str(out_json)]
    args += ["--queue", str(out_html)]
    assert main(args) == 1  # the malicious upload fails the batch
    assert _rows(db) == [
        ("plain-lib", "2.0", "plain-lib-2.0.tar.gz", "pass"),
        ("tidy-widgets", "1.2.0", "tidy-widgets-1.2.0.tar.gz", "pass"),
        ("tidy-widgetz", "9.9.9", "tidy-widgetz-9.9.9.tar.gz", "fail"),
    ]
    printed = capsys.readouterr().out
    assert "1. tidy-widgetz==9.9.9" in printed and "os.system" in printed
    doc = json.loads(out_json.read_text())
    assert doc["queue"][0]["name"] == "tidy-widgetz"
    assert doc["queue"][0]["evidence"]["decoded"]  # the base64 payload, decoded
    assert "tidy-widgetz" in out_html.read_text()
    # A rerun judges nothing again, and exits the same way.
    assert main(args) == 1
    assert len(_rows(db)) == 3


def test_since_serial_continues_from_the_stored_serial(
    dask_cluster: str, served: Served, gate_env: dict[str, str], tmp_path: Path
) -> None:
    files = tmp_path / "files"
    for name in ("old-one", "new-one"):
        served.release(files, name, "1.0")
    _project_list(served, {"old-one": 4, "new-one": 8})
    db = tmp_path / "batch.sqlite"
    base = ["batch", "--index-url", served.simple, "--db", str(db), "--scheduler", dask_cluster]
    assert main([*base, "--since-serial", "5"]) == 0
    assert [r[0] for r in _rows(db)] == ["new-one"]
    served.release(files, "newest", "0.1")
    _project_list(served, {"old-one": 4, "new-one": 8, "newest": 11})
    assert main([*base, "--since-serial", "last"]) == 0
    assert [r[0] for r in _rows(db)] == ["new-one", "newest"]
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT value FROM state").fetchall() == [("11",)]
    assert main([*base, "--since-serial", "last"]) == 4  # nothing changed since


def test_cli_local_cluster_exit_codes(gate_env: dict[str, str], tmp_path: Path) -> None:
    d = tmp_path / "pkgs"
    d.mkdir()
    a, b = plain_sdist(d, "plain-x"), plain_sdist(d, "plain-y")
    db = tmp_path / "b.sqlite"
    done = run_gate(["batch", str(a), str(b), "--db", str(db), "--workers", "2"], gate_env)
    assert done.returncode == 0, done.stderr
    assert "2 row(s) judged now" in done.stderr and "Traceback" not in done.stderr
    names = tmp_path / "names.txt"
    names.write_text("fine\nbad name here\n")
    bad = run_gate(["batch", "--names", str(names), "--db", str(db)], gate_env)
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        f"mphunter-gate: error: {names}:2: expected `name` or `name==version`, got 'bad name here'"
    ]
    assert run_gate(["batch", "--db", str(db)], gate_env).returncode == 4


def test_scan_and_check_never_import_dask(tmp_path: Path, gate_env: dict[str, str]) -> None:
    pkg = plain_sdist(tmp_path, "plain-z")
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("")
    code = (
        "import sys\n"
        "from mphunter_gate.cli import main\n"
        f"main(['scan', {str(pkg)!r}, '--format', 'json', '-o', {str(tmp_path / 'r.json')!r}])\n"
        f"main(['check', '--offline', {str(reqs)!r}])\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed'))\n"
        "print(loaded)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=gate_env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
