"""Configuration layers, the seed's config.ini, and the allowlist policy."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from mphunter_gate.config import (
    AllowEntry,
    Config,
    apply_allowlist,
    load_config,
    overall_verdict,
)
from mphunter_gate.errors import InputError
from mphunter_gate.types import Finding, Origin, Report, Verdict

SHA = "ab" * 32


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _load(tmp_path: Path, config_file: Path | None = None, **overrides: object) -> Config:
    return load_config(tmp_path, config_file, overrides, environ={})


# --- layers ------------------------------------------------------------------


def test_defaults_without_any_file(tmp_path: Path) -> None:
    cfg = _load(tmp_path)
    assert cfg == Config()
    assert cfg.threshold is None and cfg.index_url is None and cfg.allow_unscanned is False
    assert cfg.format == "text" and cfg.allowlist == ()


def test_pyproject_table(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "pyproject.toml",
        """
[project]
name = "demo"

[tool.mphunter-gate]
threshold = 0.75
index-url = "https://pypi.example.com/simple"
extra-index-urls = ["https://a.example/simple", "https://b.example/simple"]
allow-unscanned = true
format = "json"
python-version = "3.12"
prefix_len = 3
cache-dir = ".gate-cache"

[[tool.mphunter-gate.allow]]
package = "foo==1.2.3"
reason = "vendored, reviewed by sec"
expires = 2030-01-31

[[tool.mphunter-gate.allow]]
sha256 = "SHA"
reason = "our own sdist"
""".replace("SHA", SHA),
    )
    cfg = _load(tmp_path)
    assert cfg.threshold == 0.75
    assert cfg.index_url == "https://pypi.example.com/simple"
    assert cfg.extra_index_urls == ("https://a.example/simple", "https://b.example/simple")
    assert cfg.allow_unscanned is True and cfg.format == "json" and cfg.python_version == "3.12"
    assert cfg.train_params == {"prefix_len": 3}
    assert cfg.cache_dir == (tmp_path / ".gate-cache").resolve()
    first, second = cfg.allowlist
    assert (first.name, first.version, first.sha256) == ("foo", "1.2.3", None)
    assert first.expires == date(2030, 1, 31)
    assert first.where == f"{tmp_path / 'pyproject.toml'}:15"
    assert (second.name, second.sha256, second.reason) == (None, SHA, "our own sdist")


def test_pyproject_without_our_table_is_ignored(tmp_path: Path) -> None:
    _write(tmp_path, "pyproject.toml", '[project]\nname = "x"\n')
    assert _load(tmp_path) == Config()


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ("threshhold = 0.5", 3, "unknown key 'tool.mphunter-gate.threshhold'"),
        ("threshold = 1.5", 3, "must be between 0 and 1"),
        ('threshold = "high"', 3, "expected a number"),
        ('index-url = "pypi.org"', 3, "expected an http(s):// URL"),
        ('format = "xml"', 3, "expected one of text, json"),
        ("allow-unscanned = 3", 3, "expected true or false"),
        ('python-version = "three"', 3, "expected a Python version"),
    ],
)
def test_bad_values_name_file_and_line(tmp_path: Path, body: str, line: int, message: str) -> None:
    path = _write(tmp_path, "pyproject.toml", f"[tool.mphunter-gate]\n# comment\n{body}\n")
    with pytest.raises(InputError) as err:
        _load(tmp_path)
    assert str(err.value).startswith(f"{path}:{line}: ")
    assert message in str(err.value)


def test_toml_syntax_error_names_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "pyproject.toml", "[tool.mphunter-gate]\nthreshold = = 1\n")
    with pytest.raises(InputError, match=rf"^{path}:2: invalid TOML"):
        _load(tmp_path)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('package = "foo==1.0"', "needs a non-empty reason"),
        ('package = "foo==1.0"\nreason = "  "', "needs a non-empty reason"),
        ('reason = "x"', "needs a package, a url or a sha256"),
        ('package = "foo>=1"\nreason = "x"', "package must be 'name' or 'name==version'"),
        ('sha256 = "abc"\nreason = "x"', "sha256 must be 64 hex digits"),
        ('package = "foo"\nreason = "x"\nexpires = "soon"', "expected a date"),
        ('package = "foo"\nreason = "x"\nversion = "1"', "unknown key 'version'"),
    ],
)
def test_bad_allow_entries(tmp_path: Path, entry: str, message: str) -> None:
    text = (
        "[tool.mphunter-gate]\nthreshold = 0.5\n\n"
        '[[tool.mphunter-gate.allow]]\npackage = "ok"\nreason = "fine"\n\n'
        f"[[tool.mphunter-gate.allow]]\n{entry}\n"
    )
    path = _write(tmp_path, "pyproject.toml", text)
    with pytest.raises(InputError) as err:
        _load(tmp_path)
    assert str(err.value).startswith(f"{path}:8: ")  # the second [[...allow]] header
    assert message in str(err.value)


def test_inline_allow_array(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "pyproject.toml",
        '[tool.mphunter-gate]\nallow = [{ package = "Foo_Bar==2", reason = "ok" }]\n',
    )
    (entry,) = _load(tmp_path).allowlist
    assert entry.name == "Foo_Bar" and entry.version == "2"


def test_precedence_pyproject_file_env_cli(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "pyproject.toml",
        '[tool.mphunter-gate]\nthreshold = 0.5\noffline = false\nindex-url = "https://a.example/simple"\n',
    )
    other = _write(tmp_path, "gate.toml", "threshold = 0.6\nallow-unscanned = true\n")
    cfg = load_config(tmp_path, other, {}, environ={})
    assert (cfg.threshold, cfg.allow_unscanned) == (0.6, True)
    assert cfg.index_url == "https://a.example/simple"
    env = {"MPHUNTER_GATE_INDEX_URL": "https://env.example/simple", "MPHUNTER_GATE_OFFLINE": "1"}
    cfg = load_config(tmp_path, other, {"threshold": None}, environ=env)
    assert cfg.index_url == "https://env.example/simple" and cfg.offline is True
    assert cfg.threshold == 0.6  # a None override means "flag not given"
    cfg = load_config(
        tmp_path, other, {"threshold": 0.9, "index_url": "https://cli.example/simple"}, environ=env
    )
    assert cfg.threshold == 0.9 and cfg.index_url == "https://cli.example/simple"
    assert cfg.sources[0].endswith("pyproject.toml") and cfg.sources[-1] == "command line"


def test_bad_cli_override_is_input_error_naming_the_flag(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="--threshold: must be between 0 and 1"):
        _load(tmp_path, threshold=2.0)
    with pytest.raises(ValueError, match="unknown override"):
        _load(tmp_path, no_such_option=1)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such config file"):
        _load(tmp_path, tmp_path / "nope.ini")


# --- the seed tool's config.ini ----------------------------------------------

SEED_INI = """\
[basic]
vector_size = 128
window = 4
min_count = 1
epoch = 30
workers = 2
prefix_len = 2

bad_api_dir = lists/removed.txt
WE_model_name = apiem_demo
WE_proj_name = apiem_demo
model_name = ccem_demo

action = detect
# train or detect

[train]
pkg_name = some_folder
proj_name = model_name
dir0 = a.txt
dir1 = b.txt
dir2 = c.txt
file_search_mode = all_files
graph_mode = cg
task_num = 4

[detect]
pkg_name = other_folder
proj_name = demo
dir0 = a.txt
dir1 = b.txt
dir2 = c.txt
proj_merged = merged
file_search_mode = setup_only
graph_mode = cfg+cg
rank_mode = negative
min_cluster_size = 3
min_samples = 10
task_num = 4
proj_wait_to_be_merged = benign
negative_proj_name = malicious
"""


def _seed(tmp_path: Path, text: str = SEED_INI) -> Path:
    (tmp_path / "lists").mkdir(exist_ok=True)
    (tmp_path / "lists" / "removed.txt").write_text("setuptools.setup\n")
    return _write(tmp_path, "config.ini", text)


def test_seed_config_ini_maps_what_applies(tmp_path: Path) -> None:
    cfg = _load(tmp_path, _seed(tmp_path))
    assert cfg.train_params == {
        "vector_size": 128,
        "window": 4,
        "min_count": 1,
        "epochs": 30,
        "workers": 2,
        "prefix_len": 2,
        "rank_mode": "negative",
        "min_cluster_size": 3,
        "min_samples": 10,
    }
    assert cfg.graph_mode == "cfg+cg"  # [detect] wins over [train]
    assert cfg.file_search_mode == "setup_only"
    assert cfg.bad_api_file == (tmp_path / "lists" / "removed.txt").resolve()


def test_seed_config_gate_section(tmp_path: Path) -> None:
    path = _seed(tmp_path, SEED_INI + "\n[mphunter-gate]\nthreshold = 0.4\nallow-unscanned = yes\n")
    cfg = _load(tmp_path, path)
    assert cfg.threshold == 0.4 and cfg.allow_unscanned is True


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("window = 4", "windw = 4", 3, "unknown key '[basic] windw'"),
        ("rank_mode = negative", "rank_mode = both", 36, "expected one of positive, negative, p&n"),
        ("epoch = 30", "epoch = many", 5, "expected a positive integer"),
        ("graph_mode = cg", "graph_mode = ast", 24, "expected one of cfg+cg, cg"),
        ("[detect]", "[detection]", 27, "unknown section [detection]"),
        ("bad_api_dir = lists/removed.txt", "bad_api_dir = lists/none.txt", 9, "no such file"),
        ("prefix_len = 2", "prefix_len = 2\nprefix_len = 3", 8, "already exists"),
    ],
)
def test_seed_config_errors_name_file_and_line(
    tmp_path: Path, old: str, new: str, line: int, message: str
) -> None:
    assert old in SEED_INI
    path = _seed(tmp_path, SEED_INI.replace(old, new, 1))
    with pytest.raises(InputError) as err:
        _load(tmp_path, path)
    assert str(err.value).startswith(f"{path}:{line}: "), str(err.value)
    assert message in str(err.value)


def test_ini_without_section_header(tmp_path: Path) -> None:
    path = _write(tmp_path, "config.ini", "# hi\nwindow = 3\n")
    with pytest.raises(InputError, match=rf"^{path}:2: expected a \[section\]"):
        _load(tmp_path, path)


# --- allowlist policy --------------------------------------------------------


def _finding(verdict: Verdict = Verdict.FAIL, **kw: object) -> Finding:
    base = Finding(
        name="Evil_Pkg",
        version="1.0",
        source="requirements.txt",
        verdict=verdict,
        score=0.95 if verdict is not Verdict.UNSCANNED else None,
        reason="setup.py scores 0.950 >= threshold 0.800",
        origin=Origin("requirements.txt", 4),
        sha256=SHA,
    )
    return replace(base, **kw)


def _report(*findings: Finding) -> Report:
    return Report(
        verdict=overall_verdict(findings, False),
        threshold=0.8,
        model_version="t",
        findings=findings,
    )


def _cfg(*entries: AllowEntry, allow_unscanned: bool = False) -> Config:
    return Config(allowlist=entries, allow_unscanned=allow_unscanned)


TODAY = date(2025, 6, 1)


@pytest.mark.parametrize(
    "entry",
    [
        AllowEntry("evil-pkg", "1.0.0", None, "reviewed"),  # normalised name and version
        AllowEntry("EVIL.PKG", None, None, "reviewed"),  # every version
        AllowEntry(None, None, SHA.upper(), "reviewed"),  # by file hash alone
        AllowEntry("evil_pkg", "1.0", SHA, "reviewed", date(2025, 6, 1)),  # expires today: valid
    ],
)
def test_active_entry_passes_the_package(entry: AllowEntry) -> None:
    report = apply_allowlist(
        _report(_finding(), _finding(Verdict.PASS, name="ok")), _cfg(entry), TODAY
    )
    assert report.verdict is Verdict.PASS
    allowed = report.findings[0]
    assert allowed.verdict is Verdict.PASS
    assert allowed.allowed_by is not None and "reviewed" in allowed.allowed_by
    assert allowed.reason.startswith("setup.py scores")  # what was allowed stays visible
    assert report.findings[1].allowed_by is None


@pytest.mark.parametrize(
    "entry",
    [
        AllowEntry("evil-pkg", "1.1", None, "other release"),
        AllowEntry("other", None, None, "other project"),
        AllowEntry("evil-pkg", "1.0", "cd" * 32, "other file"),
    ],
)
def test_non_matching_entry_changes_nothing(entry: AllowEntry) -> None:
    original = _report(_finding())
    assert apply_allowlist(original, _cfg(entry), TODAY) == original


def test_expired_entry_stops_applying_and_says_so() -> None:
    entry = AllowEntry("evil-pkg", "1.0", None, "temporary", date(2025, 5, 31), "pyproject.toml:9")
    report = apply_allowlist(_report(_finding()), _cfg(entry), TODAY)
    assert report.verdict is Verdict.FAIL
    (finding,) = report.findings
    assert finding.verdict is Verdict.FAIL and finding.allowed_by is None
    assert finding.notes == (
        "allowlist entry evil-pkg==1.0 [pyproject.toml:9] expired on 2025-05-31; "
        "it no longer applies (reason was: temporary)",
    )


def test_unscanned_policy() -> None:
    unscanned = _report(_finding(Verdict.UNSCANNED))
    assert apply_allowlist(unscanned, _cfg(), TODAY).verdict is Verdict.FAIL
    assert apply_allowlist(unscanned, _cfg(allow_unscanned=True), TODAY).verdict is Verdict.PASS
    entry = AllowEntry("evil-pkg", None, None, "internal package")
    report = apply_allowlist(unscanned, _cfg(entry), TODAY)
    assert report.verdict is Verdict.PASS and report.findings[0].allowed_by is not None


def test_allowlist_from_pyproject_end_to_end(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "pyproject.toml",
        '[tool.mphunter-gate]\nallow = [{ package = "evil-pkg==1.0", reason = "audited", '
        'expires = "2025-12-31" }]\n',
    )
    cfg = _load(tmp_path)
    assert apply_allowlist(_report(_finding()), cfg, date(2025, 12, 31)).verdict is Verdict.PASS
    assert apply_allowlist(_report(_finding()), cfg, date(2026, 1, 1)).verdict is Verdict.FAIL


def test_a_file_hash_entry_allows_only_the_failing_file_of_a_release() -> None:
    """A release judged by its wheel and its sdist: the clean file's hash vouches for nothing."""
    from mphunter_gate.report.explain import allow_snippet
    from mphunter_gate.types import FileKind, JudgedFile

    wheel, sdist = "ab" * 32, "cd" * 32
    files = (
        JudgedFile(
            "evil_pkg-1.0-py3-none-any.whl",
            wheel,
            FileKind.WHEEL,
            ("py3.11",),
            Verdict.PASS,
            0.1,
            "1 script(s) below threshold",
        ),
        JudgedFile("evil-pkg-1.0.tar.gz", sdist, FileKind.SDIST, (), Verdict.FAIL, 0.95, "bad"),
    )
    finding = _finding(sha256=wheel, files=files)
    assert apply_allowlist(_report(finding), _cfg(AllowEntry(None, None, wheel, "r")), TODAY) == (
        _report(finding)
    )
    allowed = apply_allowlist(_report(finding), _cfg(AllowEntry(None, None, sdist, "r")), TODAY)
    assert allowed.verdict is Verdict.PASS
    assert f'sha256 = "{sdist}"' in allow_snippet(finding)


@pytest.mark.parametrize(
    ("name", "version"),
    [
        ("git+https://github.com/example/lib.git@v1#egg=lib", ""),  # VCS
        ("lib @ https://example.com/lib-1.0.tar.gz", ""),  # direct URL
        ("./vendor/lib", ""),  # local path
        (".[extras]", ""),  # the project itself, with extras
        ("evil-pkg", "1.0"),  # a release from an index
    ],
)
def test_every_allow_snippet_the_report_prints_is_accepted_as_printed(
    tmp_path: Path, name: str, version: str
) -> None:
    from mphunter_gate.report.explain import allow_snippet

    finding = _finding(Verdict.UNSCANNED, name=name, version=version, sha256=None)
    snippet = allow_snippet(finding).replace("<why this is safe, and who reviewed it>", "ok")
    _write(tmp_path, "pyproject.toml", f"[tool.mphunter-gate]\nallow = [{snippet}]\n")
    cfg = _load(tmp_path)
    assert apply_allowlist(_report(finding), cfg).verdict is Verdict.PASS
    other = _finding(Verdict.UNSCANNED, name=name + "x", version=version, sha256=None)
    assert apply_allowlist(_report(other), cfg).verdict is Verdict.FAIL


def test_a_url_entry_names_a_reference_alone(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "pyproject.toml",
        '[tool.mphunter-gate]\nallow = [{ url = "git+https://x/y.git", package = "y", '
        'reason = "r" }]\n',
    )
    with pytest.raises(InputError, match="url names a dependency alone"):
        _load(tmp_path)
