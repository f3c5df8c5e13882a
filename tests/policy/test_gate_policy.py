"""The four policies end to end: `mphunter-gate check` as a user runs it, against an
index on 127.0.0.1 that gives upload times and yank reasons, every format."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import run_gate
from tests.policy.conftest import Served, mal_record, vuln_record, write_tree, zip_bytes

pytestmark = pytest.mark.integration


def _check(served: Served, env: dict[str, str], cwd: Path, *args: str):  # type: ignore[no-untyped-def]
    return run_gate(["check", "requirements.txt", "--index-url", served.simple, *args], env, cwd)


def _rows(stdout: str) -> dict[str, dict]:
    return {r["name"]: r for r in json.loads(stdout)["results"]}


def test_an_advisory_fails_a_release_in_every_format_and_only_its_id_allows_it(
    served: Served, gate_env: dict[str, str], tmp_path: Path
) -> None:
    served.release(tmp_path / "dist", "tidy-widgets", "1.2.0")
    served.release(tmp_path / "dist", "evil-widgets", "1.0")
    tree = write_tree(tmp_path / "mp", [mal_record(versions=["1.0"])])
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "requirements.txt").write_text("tidy-widgets==1.2.0\nevil-widgets==1.0\n")
    adv = ("--advisories", str(tree))

    res = _check(served, gate_env, proj, *adv, "--format", "json")
    assert res.returncode == 1, res.stdout + res.stderr
    doc = json.loads(res.stdout)
    evil = _rows(res.stdout)["evil-widgets"]
    assert evil["verdict"] == "fail" and evil["rule"] == "known-malware"
    assert evil["reason"].startswith("MAL-2026-1234: Malicious code in evil-widgets (PyPI)")
    assert evil["scan"]["verdict"] == "pass"  # its files look clean: the advisory decides
    assert evil["policy"][0]["advisory"] == "MAL-2026-1234"
    assert 'advisory = "MAL-2026-1234"' in evil["explanation"]["allow"]
    assert _rows(res.stdout)["tidy-widgets"]["verdict"] == "pass"
    assert doc["advisories"]["records"] == 1 and doc["advisories"]["basis"] == "newest record"

    sarif = json.loads(_check(served, gate_env, proj, *adv, "--format", "sarif").stdout)
    results = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "known-malware"]
    assert len(results) == 1 and results[0]["level"] == "error"
    assert "MAL-2026-1234: Malicious code" in results[0]["message"]["text"]
    assert results[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 2
    for fmt in ("text", "markdown", "github"):
        out = _check(served, gate_env, proj, *adv, "--format", fmt)
        assert out.returncode == 1 and "MAL-2026-1234" in out.stdout, fmt
    text = _check(served, gate_env, proj, *adv).stdout
    assert "Malware advisories: 1 PyPI records" in text and "days old" in text

    # a plain allow entry passes a score, never an advisory
    pyproject = proj / "pyproject.toml"
    pyproject.write_text(
        '[[tool.mphunter-gate.allow]]\npackage = "evil-widgets==1.0"\nreason = "reviewed"\n'
    )
    res = _check(served, gate_env, proj, *adv, "--format", "json")
    assert res.returncode == 1
    assert "allowed only by an entry naming it" in " ".join(
        _rows(res.stdout)["evil-widgets"]["notes"]
    )
    pyproject.write_text(
        '[[tool.mphunter-gate.allow]]\npackage = "evil-widgets==1.0"\n'
        'advisory = "MAL-2026-1234"\nreason = "our own red-team package"\n'
    )
    res = _check(served, gate_env, proj, *adv, "--format", "json")
    assert res.returncode == 0, res.stdout
    assert _rows(res.stdout)["evil-widgets"]["allowed_by"].startswith("evil-widgets==1.0")


def test_advisories_update_fills_the_cache_that_check_then_uses(
    served: Served, gate_env: dict[str, str], tmp_path: Path
) -> None:
    served.release(tmp_path / "dist", "evil-widgets", "2.0")
    url = served.add("/mirror/all.zip", zip_bytes([mal_record(), vuln_record()]))
    res = run_gate(["advisories", "update", "--url", url], gate_env)
    assert res.returncode == 0, res.stderr
    assert "1 PyPI malware advisories" in res.stdout
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "requirements.txt").write_text("evil-widgets>=1\n")
    res = _check(served, gate_env, proj, "--format", "json")
    assert res.returncode == 1, res.stdout + res.stderr
    doc = json.loads(res.stdout)
    assert doc["advisories"]["basis"] == "fetched" and doc["advisories"]["stale"] is False
    assert _rows(res.stdout)["evil-widgets"]["reason"].startswith("MAL-2026-1234:")
    bad = run_gate(["advisories", "update", "--url", served.url + "/nothing.zip"], gate_env)
    assert bad.returncode == 3 and "404" in bad.stderr


def test_a_malformed_advisory_file_is_exit_2_naming_file_and_line(
    served: Served, gate_env: dict[str, str], tmp_path: Path
) -> None:
    tree = tmp_path / "mp"
    tree.mkdir()
    (tree / "MAL-2026-7.json").write_text('{\n  "id": "MAL-2026-7",\n  "affected": 3\n}\n')
    (tmp_path / "requirements.txt").write_text("tidy-widgets==1.2.0\n")
    res = _check(served, gate_env, tmp_path, "--advisories", str(tree))
    assert res.returncode == 2
    assert res.stderr.strip() == (
        f"mphunter-gate: error: {tree / 'MAL-2026-7.json'}:3: OSV record: 'affected' must be a list"
    )


def test_cooldown_fails_a_new_release_names_an_old_enough_one_and_honours_exemptions(
    served: Served, gate_env: dict[str, str], tmp_path: Path
) -> None:
    served.release(tmp_path / "dist", "demo", "1.0", age=timedelta(days=30))
    served.release(tmp_path / "dist", "demo", "1.1", age=timedelta(hours=5, minutes=10))
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "requirements.txt").write_text("demo>=1.0\n")

    res = _check(served, gate_env, proj, "--min-release-age", "7d", "--format", "json")
    assert res.returncode == 1, res.stdout + res.stderr
    row = _rows(res.stdout)["demo"]
    assert row["version"] == "1.1" and row["rule"] == "release-age"
    assert row["reason"].startswith(
        "uploaded 5 h ago; policy: at least 7 days; newest release old enough: demo==1.0 "
        "(uploaded 30 days ago)"
    )
    assert 'rule = "release-age"' in row["explanation"]["allow"]
    assert _check(served, gate_env, proj, "--min-release-age", "P7D").returncode == 1
    assert _check(served, gate_env, proj, "--min-release-age", "4 hours").returncode == 0

    pyproject = proj / "pyproject.toml"
    pyproject.write_text(
        '[tool.mphunter-gate]\nmin-release-age = "7 days"\n\n'
        '[[tool.mphunter-gate.allow]]\npackage = "demo"\nrule = "release-age"\n'
        'reason = "our own package"\nexpires = 2999-01-01\n'
    )
    res = _check(served, gate_env, proj, "--format", "json")
    assert res.returncode == 0, res.stdout
    assert _rows(res.stdout)["demo"]["policy"][0]["allowed_by"].startswith(
        "demo (rule release-age)"
    )
    pyproject.write_text(pyproject.read_text().replace("2999-01-01", "2020-01-01"))
    res = _check(served, gate_env, proj, "--format", "json")
    assert res.returncode == 1 and "expired on 2020-01-01" in " ".join(
        _rows(res.stdout)["demo"]["notes"]
    )

    pyproject.write_text('[tool.mphunter-gate]\nmin-release-age = "7 fortnights"\n')
    res = _check(served, gate_env, proj)
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1
    assert (
        res.stderr.startswith(f"mphunter-gate: error: {pyproject}:2: ")
        and "fortnights" in res.stderr
    )
    bad = _check(served, gate_env, tmp_path / "proj", "--min-release-age", "soon")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_no_upload_time_is_unscanned_unless_allowed(
    served: Served, gate_env: dict[str, str], tmp_path: Path
) -> None:
    served.release(tmp_path / "dist", "demo", "1.0", age=None)
    (tmp_path / "requirements.txt").write_text("demo==1.0\n")
    res = _check(served, gate_env, tmp_path, "--min-release-age", "36h", "--format", "json")
    assert res.returncode == 1
    row = _rows(res.stdout)["demo"]
    assert row["verdict"] == "unscanned" and "no upload time" in row["reason"]
    (tmp_path / "pyproject.toml").write_text(
        '[tool.mphunter-gate]\nmin-release-age = "36h"\nmin-release-age-missing = "allow"\n'
    )
    res = _check(served, gate_env, tmp_path, "--format", "json")
    assert res.returncode == 0, res.stdout
    assert _rows(res.stdout)["demo"]["policy"][0]["level"] == "warning"


def test_yanked_pinned_exactly_is_a_warning_and_lookalike_names_are_warned(
    served: Served, gate_env: dict[str, str], tmp_path: Path
) -> None:
    served.release(tmp_path / "dist", "demo", "0.9", yanked="broken build")
    served.release(tmp_path / "dist", "demo", "1.0")
    served.release(tmp_path / "dist", "reqeusts", "2.0")
    (tmp_path / "requirements.txt").write_text("demo==0.9\nreqeusts==2.0\n")
    res = _check(served, gate_env, tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "warning [yanked-release]: release is yanked (reason: broken build)" in res.stdout
    assert "warning [lookalike-name]: name resembles requests" in res.stdout
    sarif = json.loads(_check(served, gate_env, tmp_path, "--format", "sarif").stdout)
    levels = {r["ruleId"]: r["level"] for r in sarif["runs"][0]["results"]}
    assert levels == {"yanked-release": "warning", "lookalike-name": "warning"}
