"""`mphunter-gate install`: only a passing check installs, and only the scanned files."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from mphunter_gate.errors import InputError
from mphunter_gate.install import InstallBlocked, blockers, install, pins
from mphunter_gate.types import Finding, Report, Verdict
from tests.conftest import LocalIndex

A = "a" * 64
B = "b" * 64


def finding(
    name: str,
    version: str = "1.0",
    verdict: Verdict = Verdict.PASS,
    sha256: str | None = A,
    reason: str = "no install-time script",
    allowed_by: str | None = None,
) -> Finding:
    return Finding(
        name=name,
        version=version,
        source=f"{name}-{version}.tar.gz",
        verdict=verdict,
        score=None,
        reason=reason,
        sha256=sha256,
        allowed_by=allowed_by,
    )


def report(*findings: Finding, verdict: Verdict = Verdict.PASS) -> Report:
    return Report(verdict=verdict, threshold=0.5, model_version="t", findings=findings)


class FakePip:
    """Records the argv and the requirements file pip would have read."""

    def __init__(self, code: int = 0) -> None:
        self.code = code
        self.argv: list[str] = []
        self.requirements = ""

    def __call__(self, argv: Sequence[str], env: Mapping[str, str] | None = None) -> int:
        self.argv = list(argv)
        self.env = env
        self.requirements = Path(argv[argv.index("-r") + 1]).read_text()
        return self.code


def test_passing_report_installs_every_scanned_file_by_hash() -> None:
    pip = FakePip()
    rep = report(
        finding("zeta", "2.0", sha256=B, reason="1 script(s) below threshold"),
        finding("Alpha", "1.0", reason="wheel only: no install-time script"),
    )
    assert install(rep, runner=pip) == 0
    assert pip.requirements == f"Alpha==1.0 --hash=sha256:{A}\nzeta==2.0 --hash=sha256:{B}\n"
    assert pip.argv[:6] == [sys.executable, "-m", "pip", "install", "--require-hashes", "--no-deps"]


def test_pips_exit_code_is_returned() -> None:
    assert install(report(finding("x")), runner=FakePip(code=23)) == 23


def test_index_and_pip_args_are_passed_through() -> None:
    pip = FakePip()
    install(
        report(finding("x")),
        runner=pip,
        python="/venv/bin/python",
        index_url="https://idx.example/simple",
        pip_args=["--target=/opt/x"],
    )
    assert pip.argv[0] == "/venv/bin/python"
    assert pip.argv[pip.argv.index("--index-url") + 1] == "https://idx.example/simple"
    assert "--target=/opt/x" in pip.argv


def test_requirements_out_keeps_the_file(tmp_path: Path) -> None:
    out = tmp_path / "scanned.txt"
    install(report(finding("x")), runner=FakePip(), requirements_out=out)
    assert out.read_text() == f"x==1.0 --hash=sha256:{A}\n"


@pytest.mark.parametrize(
    ("rep", "message"),
    [
        (report(finding("bad", verdict=Verdict.FAIL), verdict=Verdict.FAIL), "bad==1.0 failed"),
        (
            report(finding("x"), finding("odd", verdict=Verdict.UNSCANNED, reason="timeout")),
            "odd==1.0 was not scanned: timeout",
        ),
        (report(finding("x", sha256=None)), "x==1.0 is without a scanned file's sha256"),
        (
            report(
                finding(
                    "./vendored",
                    version="",
                    verdict=Verdict.UNSCANNED,
                    sha256=None,
                    allowed_by="ours",
                    reason="local path: not from an index",
                )
            ),
            "./vendored is allowlisted, but without a scanned file's sha256",
        ),
        (report(), "nothing was scanned"),
        (report(finding("x"), verdict=Verdict.FAIL), "verdict is fail"),
    ],
)
def test_anything_not_cleared_blocks_and_pip_never_runs(rep: Report, message: str) -> None:
    pip = FakePip()
    with pytest.raises(InstallBlocked, match=message) as info:
        install(rep, runner=pip)
    assert pip.argv == []
    assert info.value.exit_code == 1
    assert "\n" not in str(info.value)


def test_allow_unscanned_passes_a_check_but_never_installs_unscanned() -> None:
    # `--allow-unscanned` makes the report pass; the wrapper still refuses.
    rep = report(finding("x"), finding("y", verdict=Verdict.UNSCANNED, sha256=None))
    assert rep.verdict is Verdict.PASS
    assert blockers(rep) == ["y==1.0 was not scanned: no install-time script"]


def test_allowlisted_unscanned_with_hash_installs() -> None:
    rep = report(
        finding("y", verdict=Verdict.UNSCANNED, sha256=B, allowed_by="y==1.0: vetted by hand")
    )
    assert blockers(rep) == []
    assert [(p.name, p.version, p.sha256) for p in pins(rep)] == [("y", "1.0", B)]


def test_allowlisted_failure_installs() -> None:
    rep = report(finding("z", allowed_by="z==1.0: reviewed", reason="setup.py scores 0.9"))
    assert blockers(rep) == []


def test_hostile_name_is_refused_before_pip() -> None:
    pip = FakePip()
    with pytest.raises(InputError, match="not a valid project name"):
        install(report(finding("--index-url=http://evil")), runner=pip)
    assert pip.argv == []


def test_weakening_pip_option_is_refused() -> None:
    with pytest.raises(InputError, match="not allowed"):
        install(report(finding("x")), runner=FakePip(), pip_args=["--deps"])


@pytest.mark.integration
def test_check_then_install_a_scanned_wheel_for_real(
    local_index: LocalIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Gate check against a local index, then real pip installs the scanned wheel."""
    from mphunter_gate.fetch.index import Index
    from mphunter_gate.gate import GateOptions, check, collect

    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.delenv("PIP_INDEX_URL", raising=False)
    monkeypatch.delenv("PIP_EXTRA_INDEX_URL", raising=False)
    wheel = local_index.add_wheel("tiny-pkg", "0.1", {"tiny_pkg/__init__.py": "VALUE = 41\n"})
    # setup_only: a wheel has no setup.py, so the model is never loaded, only
    # its manifest's threshold (the real models are not needed here).
    models = tmp_path / "models"
    models.mkdir()
    (models / "manifest.json").write_text(json.dumps({"threshold": 0.5, "model_version": "t"}))
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("tiny-pkg==0.1\n")
    deps, bad, _, _ = collect([reqs])
    index = Index(local_index.url, cache_dir=tmp_path / "cache")
    rep = check(deps, bad, index, GateOptions(file_search_mode="setup_only"), models)
    [only] = rep.findings
    assert rep.verdict is Verdict.PASS, only.reason
    assert only.sha256 == hashlib.sha256(wheel.read_bytes()).hexdigest()

    target = tmp_path / "site"
    code = install(
        rep,
        index_url=local_index.url,
        pip_args=[f"--target={target}", "--quiet", "--disable-pip-version-check"],
    )
    assert code == 0
    assert (target / "tiny_pkg" / "__init__.py").read_text() == "VALUE = 41\n"

    # The same pin with a hash of another file: pip itself refuses.
    wrong = Report(rep.verdict, 0.5, "t", (Finding(**{**only.__dict__, "sha256": B}),))
    other = tmp_path / "other"
    code = install(
        wrong,
        index_url=local_index.url,
        pip_args=[f"--target={other}", "--quiet", "--disable-pip-version-check"],
    )
    assert code != 0
    assert not (other / "tiny_pkg").exists()


def test_build_dependencies_constrain_the_build_and_are_not_installed() -> None:
    from dataclasses import replace

    builder = replace(finding("setuptools", "80.9.0"), build_for=("alpha==1.0",))
    pip = FakePip()
    captured: dict[str, str] = {}

    def runner(argv: Sequence[str], env: Mapping[str, str] | None = None) -> int:
        assert env is not None
        captured["constraints"] = Path(env["PIP_CONSTRAINT"]).read_text()
        return pip(argv, env)

    assert install(report(finding("alpha", "1.0"), builder), runner=runner) == 0
    assert "setuptools" not in pip.requirements and "alpha==1.0" in pip.requirements
    assert captured["constraints"] == "setuptools==80.9.0\n"


def test_a_failing_build_dependency_blocks_the_install() -> None:
    from dataclasses import replace

    bad = replace(finding("evil-builder", "1"), verdict=Verdict.FAIL, build_for=("alpha==1.0",))
    pip = FakePip()
    with pytest.raises(InstallBlocked, match="evil-builder"):
        install(report(finding("alpha", "1.0"), bad, verdict=Verdict.FAIL), runner=pip)
    assert pip.argv == []
