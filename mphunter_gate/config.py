"""The gate's settings and policy: one source of defaults for CLI, action and hook.

Layers, later wins:

1. the defaults below (the action and the pre-commit hook pass nothing
   they do not have to, so these are the defaults everywhere);
2. `[tool.mphunter-gate]` in the project's pyproject.toml;
3. `--config FILE`: the seed tool's `config.ini` (sections basic / train /
   detect, its parameter names) for its users, or a TOML file with the
   pyproject keys;
4. the environment: `MPHUNTER_GATE_INDEX_URL`, `MPHUNTER_GATE_EXTRA_INDEX_URL`
   (whitespace-separated), `MPHUNTER_GATE_OFFLINE` (for CI systems and
   pre-commit, which cannot add flags);
5. command-line flags.

A value the user got wrong is an `InputError` naming the file and line; an
unknown key is an error too, since a misspelt `threshhold` that is silently
ignored is a security setting that silently does not apply.

The allowlist follows osv-scanner's ignore entries, which users like: every
entry needs a reason, may expire, and an expired entry stops applying and
the report says so.
"""

from __future__ import annotations

import configparser
import dataclasses
import logging
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from mphunter_gate.errors import InputError
from mphunter_gate.types import Finding, PolicyHit, Report, Verdict

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

log = logging.getLogger(__name__)

TOOL_TABLE = "tool.mphunter-gate"
GRAPH_MODES = ("cfg+cg", "cg")
FILE_SEARCH_MODES = ("setup_only", "all_files")
RANK_MODES = ("positive", "negative", "p&n")
ENV_INDEX_URL = "MPHUNTER_GATE_INDEX_URL"
ENV_EXTRA_INDEX_URL = "MPHUNTER_GATE_EXTRA_INDEX_URL"
ENV_OFFLINE = "MPHUNTER_GATE_OFFLINE"

_NAME = re.compile(r"^([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9])$")


def is_project_name(text: str) -> bool:
    """Whether `text` is a project name the allowlist's `package` key accepts."""
    return bool(_NAME.match(text))


_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
_ADVISORY_ID = re.compile(r"^[A-Za-z][A-Za-z0-9]*-[A-Za-z0-9._:-]+$")
#: The rule of a malware advisory hit (policy/advisories.py), passed only by its id.
ADVISORY_RULE = "known-malware"
#: Rules an allow entry may exempt a package from (`rule = "..."`).
ALLOW_RULES = ("release-age", "yanked-release", "lookalike-name")
_ALLOW_KEYS = ("package", "url", "sha256", "reason", "expires", "advisory", "rule")
_PYVER = re.compile(r"^3\.\d{1,2}$")


def canonical_name(name: str) -> str:
    """PEP 503 normalisation: `Foo_Bar` and `foo-bar` are one project."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _same_version(a: str, b: str) -> bool:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


def _judged(finding: Finding) -> list[str | None]:
    """The sha256 of the files that decide whether a finding needs allowing: those that
    did not pass (a release's clean wheel must not vouch for its failing sdist), or the
    one file a `scan` finding has."""
    flagged = [j.sha256 for j in finding.files if j.verdict is not Verdict.PASS]
    return flagged or [finding.sha256]


@dataclass(frozen=True)
class AllowEntry:
    """One allowlist entry: `name==version` and/or an sdist sha256, with a reason.

    `name` without `version` allows every release of the project; `sha256`
    alone allows exactly one file whatever it is called. `where` is the
    `file:line` it came from, for messages.
    """

    name: str | None
    version: str | None
    sha256: str | None
    reason: str
    expires: date | None = None
    where: str | None = None
    #: A URL, VCS reference or local path exactly as the dependency file writes it:
    #: what names a dependency that is not from an index (and so has no release).
    url: str | None = None
    #: A malware advisory id (`MAL-2026-1234`): the only thing that passes a release
    #: an advisory lists, and all this entry passes.
    advisory: str | None = None
    #: A policy rule (`release-age`, `yanked-release`, `lookalike-name`): the entry
    #: exempts the package from that rule only, and its files are still judged.
    rule: str | None = None

    def matches(self, finding: Finding) -> bool:
        """Whether this entry names the finding's release (ignoring expiry)."""
        if self.name is None and self.sha256 is None and self.url is None:
            return self.advisory is not None  # an advisory id alone: wherever it matches
        if self.url is not None:
            return finding.name.strip() == self.url and not finding.version
        if self.name is not None and canonical_name(self.name) != canonical_name(finding.name):
            return False
        if self.version is not None and not _same_version(self.version, finding.version):
            return False
        if self.sha256 is None:
            return True
        return all(
            sha is not None and sha.lower() == self.sha256.lower() for sha in _judged(finding)
        )

    def expired(self, today: date) -> bool:
        """An entry is valid through its expiry date, and stops applying the day after."""
        return self.expires is not None and today > self.expires

    def covers_scan(self) -> bool:
        """Whether it passes the scan's own failure (only a plain entry does)."""
        return self.advisory is None and self.rule is None

    def covers(self, hit: PolicyHit) -> bool:
        """Whether it passes this policy hit: an advisory only by its id, a rule by
        an entry for that rule or a plain entry."""
        if hit.rule == ADVISORY_RULE:
            return (
                self.advisory is not None
                and hit.advisory is not None
                and self.advisory.upper() == hit.advisory.upper()
            )
        return self.advisory is None and (self.rule is None or self.rule == hit.rule)

    def describe(self) -> str:
        """`foo==1.0`, `foo`, or `sha256:abcd…` plus where it was declared."""
        if self.name is not None:
            what = self.name + (f"=={self.version}" if self.version else "")
            if self.sha256:
                what += f" (sha256:{self.sha256[:12]}…)"
        elif self.sha256 is not None:
            what = f"sha256:{self.sha256[:12]}…"
        else:
            what = self.url or ""
        if self.advisory:
            what = f"{what} advisory {self.advisory}".strip()
        if self.rule:
            what += f" (rule {self.rule})"
        return what + (f" [{self.where}]" if self.where else "")


@dataclass(frozen=True)
class Config:
    """Everything the gate can be told, after all layers are merged.

    `None` means "not set here, let the stage decide": `threshold` None is
    the model manifest's calibrated threshold; `index_url` None is pip's
    configuration, then PyPI; `cache_dir` None is the user cache
    (`MPHUNTER_GATE_CACHE` overrides it); `python_version` None is the
    running interpreter's. `train_overrides` carries the seed parameters
    that shape a model (names as in `model.params.TrainParams`).
    """

    threshold: float | None = None
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    allow_unscanned: bool = False
    allowlist: tuple[AllowEntry, ...] = ()
    format: str = "text"
    offline: bool = False
    python_version: str | None = None
    audit_vulns: bool = False
    #: OSV malware records (a tree of *.json or an OSV zip); None: the cache of
    #: `advisories update` when present.
    advisories: Path | None = None
    min_release_age: timedelta | None = None  # None: no cooldown
    min_release_age_missing: str = "fail"
    #: How long `check` may wait on the index in all: past it nothing more is fetched
    #: and the run stops (exit 3), since what was not fetched cannot pass.
    index_deadline: timedelta = timedelta(minutes=15)
    cache_dir: Path | None = None
    graph_mode: str = "cfg+cg"
    file_search_mode: str = "all_files"
    bad_api_file: Path | None = None
    train_overrides: tuple[tuple[str, Any], ...] = ()
    sources: tuple[str, ...] = field(default=(), compare=False)

    @property
    def train_params(self) -> dict[str, Any]:
        """`train_overrides` as keyword arguments for `TrainParams`."""
        return dict(self.train_overrides)


# --- value parsers -----------------------------------------------------------
# Each takes the raw value and returns the typed one or raises ValueError with
# a message that reads well after "key: ".


def _float01(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"expected a number between 0 and 1, got {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"expected a number between 0 and 1, got {value!r}") from None
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"must be between 0 and 1, got {number}")
    return number


def _bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if isinstance(value, str) and value.strip().lower() in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _url(value: object) -> str:
    if not isinstance(value, str) or not re.match(r"^(https?|file)://\S+$", value.strip()):
        raise ValueError(f"expected an http(s):// URL, got {value!r}")
    return value.strip()


def _urls(value: object) -> tuple[str, ...]:
    items = value.split() if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise ValueError(f"expected a list of URLs, got {value!r}")
    return tuple(_url(item) for item in items)


def _choice(choices: tuple[str, ...]) -> Callable[[object], str]:
    def parse(value: object) -> str:
        if value not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}, got {value!r}")
        return str(value)

    return parse


def _format(value: object) -> str:
    from mphunter_gate.report import FORMAT_NAMES

    return _choice(FORMAT_NAMES)(value)


def _python_version(value: object) -> str:
    text = str(value).strip()
    if not _PYVER.match(text):
        raise ValueError(f"expected a Python version like 3.11, got {value!r}")
    return text


def _positive_int(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError(f"expected a positive integer, got {value!r}")
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValueError(f"expected a positive integer, got {value!r}") from None
    if number < 1:
        raise ValueError(f"expected a positive integer, got {number}")
    return number


def _path(value: object) -> Path:
    if not isinstance(value, str | Path) or not str(value).strip():
        raise ValueError(f"expected a path, got {value!r}")
    return Path(str(value).strip()).expanduser()


def _date(value: object) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"expected a date like 2025-12-31, got {value!r}") from None


def _duration(value: object) -> timedelta:
    from mphunter_gate.policy.age import parse_duration

    return parse_duration(value)


def _missing(value: object) -> str:
    from mphunter_gate.policy.age import parse_missing

    return parse_missing(value)


# Config fields settable by name, with their parsers.
_FIELDS: dict[str, Callable[[object], Any]] = {
    "threshold": _float01,
    "index_url": _url,
    "extra_index_urls": _urls,
    "allow_unscanned": _bool,
    "format": _format,
    "offline": _bool,
    "python_version": _python_version,
    "audit_vulns": _bool,
    "advisories": _path,
    "min_release_age": _duration,
    "min_release_age_missing": _missing,
    "index_deadline": _duration,
    "cache_dir": _path,
    "graph_mode": _choice(GRAPH_MODES),
    "file_search_mode": _choice(FILE_SEARCH_MODES),
    "bad_api_file": _path,
}
# Model parameters (TrainParams names) settable from config.
_TRAIN: dict[str, Callable[[object], Any]] = {
    "vector_size": _positive_int,
    "window": _positive_int,
    "min_count": _positive_int,
    "epochs": _positive_int,
    "workers": _positive_int,
    "prefix_len": _positive_int,
    "min_cluster_size": _positive_int,
    "min_samples": _positive_int,
    "rank_mode": _choice(RANK_MODES),
}
# pyproject spellings (after `_` -> `-`) that differ from the field name.
_ALIASES = {
    "extra-index-url": "extra_index_urls",
    "epoch": "epochs",
    "bad-api-dir": "bad_api_file",
}
_PATH_FIELDS = {"cache_dir", "bad_api_file", "advisories"}


def _key_to_field(key: str) -> str | None:
    kebab = key.replace("_", "-").lower()
    if kebab in _ALIASES:
        return _ALIASES[kebab]
    snake = kebab.replace("-", "_")
    if snake in _FIELDS or snake in _TRAIN:
        return snake
    return None


class _Layer:
    """Values from one source, with where each came from (for error messages)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.values: dict[str, Any] = {}
        self.train: dict[str, Any] = {}
        self.allow: list[AllowEntry] | None = None

    def set(self, fld: str, raw: object, where: str, file: str | None, line: int | None) -> None:
        parser = _FIELDS.get(fld) or _TRAIN[fld]
        try:
            value = parser(raw)
        except ValueError as exc:
            raise InputError(f"{where}: {exc}", file, line) from None
        if fld in _PATH_FIELDS and file is not None and not Path(value).is_absolute():
            value = (Path(file).parent / value).resolve()
        if fld == "bad_api_file" and not Path(value).is_file():
            raise InputError(f"{where}: no such file {str(value)!r}", file, line)
        if fld in _FIELDS:
            self.values[fld] = value
        else:
            self.train[fld] = value


# --- TOML --------------------------------------------------------------------

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\[\]]+?)\s*\]\]?\s*(#.*)?$")


def _norm_table(name: str) -> str:
    return ".".join(part.strip().strip("\"'") for part in name.split("."))


class _TomlLines:
    """Line numbers for keys in a TOML file (tomllib reports none)."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def key(self, table: str, key: str) -> int | None:
        current = ""
        pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        for number, line in enumerate(self.lines, 1):
            header = _HEADER.match(line)
            if header:
                current = _norm_table(header.group(2))
                continue
            if current == table and pattern.match(line):
                return number
        return self.table(table)

    def table(self, table: str, index: int = 0) -> int | None:
        seen = 0
        for number, line in enumerate(self.lines, 1):
            header = _HEADER.match(line)
            if header and _norm_table(header.group(2)) == table:
                if seen == index:
                    return number
                seen += 1
        return None


def _read_toml(path: Path) -> tuple[dict[str, Any], _TomlLines]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read: {exc}", str(path)) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        line = int(match.group(1)) if match else None
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise InputError(f"invalid TOML: {message}", str(path), line) from None
    return data, _TomlLines(text)


def _allow_entry(raw: object, file: str, line: int | None, label: str) -> AllowEntry:
    where = f"{file}:{line}" if line is not None else file
    if not isinstance(raw, dict):
        raise InputError(f"{label}: an allow entry must be a table", file, line)
    unknown = sorted(set(raw) - set(_ALLOW_KEYS))
    if unknown:
        raise InputError(
            f"{label}: unknown key {unknown[0]!r} (use {', '.join(_ALLOW_KEYS)})", file, line
        )
    reason = raw.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise InputError(f"{label}: every allow entry needs a non-empty reason", file, line)
    name = version = sha = None
    package = raw.get("package")
    if package is not None:
        if not isinstance(package, str):
            raise InputError(f"{label}: package must be 'name' or 'name==version'", file, line)
        name, _, version_text = package.strip().partition("==")
        name = name.strip()
        version = version_text.strip() or None
        if not _NAME.match(name) or (version_text and not version):
            raise InputError(
                f"{label}: package must be 'name' or 'name==version', got {package!r}", file, line
            )
    if raw.get("sha256") is not None:
        sha = str(raw["sha256"]).strip().lower().removeprefix("sha256:")
        if not _SHA256.match(sha):
            raise InputError(f"{label}: sha256 must be 64 hex digits", file, line)
    url = raw.get("url")
    if url is not None:
        if not isinstance(url, str) or not url.strip():
            raise InputError(f"{label}: url must be the reference as written", file, line)
        if name is not None or sha is not None:
            raise InputError(
                f"{label}: url names a dependency alone (no package, sha256)", file, line
            )
        url = url.strip()
    advisory = raw.get("advisory")
    if advisory is not None:
        if not isinstance(advisory, str) or not _ADVISORY_ID.match(advisory.strip()):
            raise InputError(
                f"{label}: advisory must be an advisory id like 'MAL-2026-1234'", file, line
            )
        advisory = advisory.strip()
    rule = raw.get("rule")
    if rule is not None:
        if rule not in ALLOW_RULES:
            raise InputError(
                f"{label}: rule must be one of {', '.join(ALLOW_RULES)} (an advisory is allowed "
                "by its id: advisory = 'MAL-...')",
                file,
                line,
            )
        if advisory is not None or url is not None:
            raise InputError(
                f"{label}: rule exempts a package or file (no advisory, url)", file, line
            )
        if name is None and sha is None:
            raise InputError(f"{label}: rule needs the package it exempts", file, line)
    if advisory is not None and (sha is not None or url is not None):
        raise InputError(f"{label}: advisory takes a package at most (no sha256, url)", file, line)
    if name is None and sha is None and url is None and advisory is None:
        raise InputError(
            f"{label}: an allow entry needs a package, a url or a sha256 (or an advisory id)",
            file,
            line,
        )
    expires = None
    if raw.get("expires") is not None:
        try:
            expires = _date(raw["expires"])
        except ValueError as exc:
            raise InputError(f"{label}: expires: {exc}", file, line) from None
    return AllowEntry(name, version, sha, reason.strip(), expires, where, url, advisory, rule)


def _toml_layer(table: Mapping[str, Any], table_name: str, path: Path, lines: _TomlLines) -> _Layer:
    file = str(path)
    layer = _Layer(file)
    for key, raw in table.items():
        line = lines.key(table_name, key)
        label = f"{table_name}.{key}" if table_name else key
        if key == "allow":
            if not isinstance(raw, list):
                raise InputError(f"{label}: expected a list of tables", file, line)
            entries = []
            for i, item in enumerate(raw):
                entry_line = lines.table(f"{table_name}.allow", i) or line
                entries.append(_allow_entry(item, file, entry_line, f"{label}[{i}]"))
            layer.allow = entries
            continue
        fld = _key_to_field(key)
        if fld is None:
            raise InputError(f"unknown key {label!r}", file, line)
        layer.set(fld, raw, label, file, line)
    return layer


def _pyproject_layer(project_dir: Path) -> _Layer | None:
    path = project_dir / "pyproject.toml"
    if not path.is_file():
        return None
    data, lines = _read_toml(path)
    table = data.get("tool", {}).get("mphunter-gate")
    if table is None:
        return None
    if not isinstance(table, dict):
        line = lines.key("tool", "mphunter-gate")
        raise InputError(f"[{TOOL_TABLE}] must be a table", str(path), line)
    return _toml_layer(table, TOOL_TABLE, path, lines)


# --- the seed's config.ini ---------------------------------------------------

# (section, key) -> our field. Keys are lower-case (configparser folds them).
_SEED_APPLIED: dict[tuple[str, str], str] = {
    **{("basic", k): k for k in ("vector_size", "window", "min_count", "workers", "prefix_len")},
    ("basic", "epoch"): "epochs",
    ("basic", "bad_api_dir"): "bad_api_file",
    ("train", "file_search_mode"): "file_search_mode",
    ("train", "graph_mode"): "graph_mode",
    ("detect", "file_search_mode"): "file_search_mode",
    ("detect", "graph_mode"): "graph_mode",
    ("detect", "rank_mode"): "rank_mode",
    ("detect", "min_cluster_size"): "min_cluster_size",
    ("detect", "min_samples"): "min_samples",
}
# The seed's file-layout keys: accepted so its config.ini loads, but they name
# its working folders and model files, which the gate replaces with bundled,
# hash-checked models.
_SEED_IGNORED: dict[str, frozenset[str]] = {
    "basic": frozenset({"we_model_name", "we_proj_name", "model_name", "action"}),
    "train": frozenset({"pkg_name", "proj_name", "dir0", "dir1", "dir2", "task_num"}),
    "detect": frozenset(
        {
            "pkg_name",
            "proj_name",
            "dir0",
            "dir1",
            "dir2",
            "proj_merged",
            "task_num",
            "proj_wait_to_be_merged",
            "negative_proj_name",
        }
    ),
}
_GATE_SECTION = "mphunter-gate"


def _ini_lines(text: str) -> dict[tuple[str, str], int]:
    """(section, key) -> first line, since configparser keeps no positions."""
    found: dict[tuple[str, str], int] = {}
    section = ""
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        header = re.match(r"^\[([^\]]+)\]", stripped)
        if header:
            section = header.group(1).strip()
            found.setdefault((section, ""), number)
            continue
        key = re.match(r"^([^=:]+?)\s*[=:]", stripped)
        if key and not line[:1].isspace():
            found.setdefault((section, key.group(1).strip().lower()), number)
    return found


def _ini_layer(path: Path) -> _Layer:
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read: {exc}", file) from None
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    try:
        parser.read_string(text, source=file)
    except configparser.MissingSectionHeaderError as exc:
        raise InputError("expected a [section] header first", file, exc.lineno) from None
    except (configparser.DuplicateSectionError, configparser.DuplicateOptionError) as exc:
        message = str(exc).split(": ", 1)[-1]
        raise InputError(message, file, exc.lineno) from None
    except configparser.ParsingError as exc:
        lineno = exc.errors[0][0] if exc.errors else None
        raise InputError("cannot parse this line", file, lineno) from None
    lines = _ini_lines(text)
    layer = _Layer(file)
    known_sections = {"basic", "train", "detect", _GATE_SECTION}
    for section in parser.sections():
        if section not in known_sections:
            raise InputError(
                f"unknown section [{section}] (expected basic, train, detect or {_GATE_SECTION})",
                file,
                lines.get((section, "")),
            )
    for section in ("basic", "train", _GATE_SECTION, "detect"):  # detect wins over train
        if not parser.has_section(section):
            continue
        for key, raw in parser.items(section, raw=True):
            line = lines.get((section, key))
            label = f"[{section}] {key}"
            if section == _GATE_SECTION:
                fld = _key_to_field(key)
                if fld is None:
                    raise InputError(f"unknown key {label!r}", file, line)
                layer.set(fld, raw, label, file, line)
            elif (section, key) in _SEED_APPLIED:
                layer.set(_SEED_APPLIED[(section, key)], raw, label, file, line)
            elif key in _SEED_IGNORED[section]:
                log.info("%s:%s: %s is the seed tool's file layout; ignored", file, line, label)
            else:
                raise InputError(f"unknown key {label!r}", file, line)
    return layer


def _config_file_layer(path: Path) -> _Layer:
    if not path.is_file():
        raise InputError("no such config file", str(path))
    if path.suffix == ".toml":
        data, lines = _read_toml(path)
        table = data.get("tool", {}).get("mphunter-gate") if "tool" in data else data
        if not isinstance(table, dict):
            raise InputError(f"expected a [{TOOL_TABLE}] table", str(path))
        return _toml_layer(table, TOOL_TABLE if "tool" in data else "", path, lines)
    return _ini_layer(path)


def _env_layer(environ: Mapping[str, str]) -> _Layer:
    layer = _Layer("environment")
    pairs = (
        (ENV_INDEX_URL, "index_url"),
        (ENV_EXTRA_INDEX_URL, "extra_index_urls"),
        (ENV_OFFLINE, "offline"),
    )
    for name, fld in pairs:
        if environ.get(name):
            layer.set(fld, environ[name], f"${name}", None, None)
    return layer


def load_config(
    project_dir: Path,
    config_file: Path | None = None,
    overrides: Mapping[str, object] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Merge defaults < pyproject.toml < `config_file` < environment < `overrides`.

    `overrides` are the CLI flags by Config field name (or TrainParams name);
    a `None` value means the flag was not given.
    """
    layers: list[_Layer] = []
    pyproject = _pyproject_layer(project_dir)
    if pyproject is not None:
        layers.append(pyproject)
    if config_file is not None:
        layers.append(_config_file_layer(config_file))
    layers.append(_env_layer(os.environ if environ is None else environ))
    cli = _Layer("command line")
    for key, raw in (overrides or {}).items():
        if raw is None:
            continue
        if key not in _FIELDS and key not in _TRAIN:
            raise ValueError(f"load_config: unknown override {key!r}")
        flag = "--" + key.replace("_", "-")
        cli.set(key, raw, flag, None, None)
    layers.append(cli)

    values: dict[str, Any] = {}
    train: dict[str, Any] = {}
    allow: list[AllowEntry] = []
    sources: list[str] = []
    for layer in layers:
        values.update(layer.values)
        train.update(layer.train)
        if layer.allow is not None:
            allow = layer.allow  # a later file's list replaces, never merges silently
        if layer.values or layer.train or layer.allow is not None:
            sources.append(layer.source)
    return Config(
        **values,
        allowlist=tuple(allow),
        train_overrides=tuple(sorted(train.items())),
        sources=tuple(sources),
    )


# --- policy ------------------------------------------------------------------


def overall_verdict(findings: Iterable[Finding], allow_unscanned: bool) -> Verdict:
    """FAIL if any package failed, was unscanned (unless allowed), or has an open vulnerability."""
    items = list(findings)
    if any(f.verdict is Verdict.FAIL for f in items):
        return Verdict.FAIL
    if not allow_unscanned and any(f.verdict is Verdict.UNSCANNED for f in items):
        return Verdict.FAIL
    if any(f.vulnerabilities and f.allowed_by is None for f in items):
        return Verdict.FAIL
    return Verdict.PASS


def apply_allowlist(report: Report, config: Config, today: date | None = None) -> Report:
    """The report with allowlisted packages passed, and expired entries noted.

    An active entry turns a `fail` or `unscanned` verdict into `pass` and
    records its reason in `allowed_by`; the original reason stays, so the
    report still says what was allowed. An entry past its expiry date does
    nothing but add a note to the finding, so the failure explains itself.
    """
    today = today or date.today()
    findings = []
    for finding in report.findings:
        if finding.scan is not None:
            findings.append(_allow_policy(finding, config.allowlist, today))
            continue
        needs_allow = finding.verdict is not Verdict.PASS or bool(finding.vulnerabilities)
        matching = [e for e in config.allowlist if e.matches(finding)] if needs_allow else []
        active = [e for e in matching if not e.expired(today)]
        expired = [e for e in matching if e.expired(today)]
        notes = list(finding.notes)
        notes += [
            f"allowlist entry {e.describe()} expired on {e.expires}; it no longer applies "
            f"(reason was: {e.reason})"
            for e in expired
        ]
        if active:
            entry = active[0]
            finding = replace(
                finding,
                verdict=Verdict.PASS,
                allowed_by=f"{entry.describe()}: {entry.reason}"
                + (f" (until {entry.expires})" if entry.expires else ""),
                notes=tuple(notes),
            )
        elif expired:
            finding = replace(finding, notes=tuple(notes))
        findings.append(finding)
    return dataclasses.replace(
        report,
        findings=tuple(findings),
        verdict=overall_verdict(findings, config.allow_unscanned),
    )


def _granted(entry: AllowEntry) -> str:
    return f"{entry.describe()}: {entry.reason}" + (
        f" (until {entry.expires})" if entry.expires else ""
    )


def _allow_policy(finding: Finding, allowlist: Iterable[AllowEntry], today: date) -> Finding:
    """The allowlist on a row with policy hits: each blocking part is passed only by
    an entry that covers it (an advisory only by its id), and the row is settled."""
    from mphunter_gate.policy.verdict import settle

    matching = [e for e in allowlist if e.matches(finding)]
    active = [e for e in matching if not e.expired(today)]
    notes = list(finding.notes)
    notes += [
        f"allowlist entry {e.describe()} expired on {e.expires}; it no longer applies "
        f"(reason was: {e.reason})"
        for e in matching
        if e.expired(today)
    ]
    scan = finding.scan
    assert scan is not None
    if scan.verdict is not Verdict.PASS or finding.vulnerabilities:
        entry = next((e for e in active if e.covers_scan()), None)
        if entry is not None:
            scan = replace(scan, allowed_by=_granted(entry))
    hits = []
    for hit in finding.policy:
        entry = next((e for e in active if e.covers(hit)), None)
        if entry is not None:
            hit = replace(hit, allowed_by=_granted(entry))
        elif hit.rule == ADVISORY_RULE and any(e.covers_scan() for e in active):
            notes.append(
                f"the allowlist does not pass {hit.advisory}: a release an advisory lists "
                f"is allowed only by an entry naming it (advisory = {hit.advisory!r})"
            )
        hits.append(hit)
    return settle(replace(finding, scan=scan, policy=tuple(hits), notes=tuple(notes)))
