"""The gate: dependency files or local archives in, a Report out.

This is the orchestration a library user would call; the CLI only parses
arguments and hands them here. Each package flows through the stages once:
fetch (or read) -> install-time scripts -> analysis -> model -> verdict.
Anything that could not be read becomes an `unscanned` finding with its
reason: nothing is silently skipped.
"""

from __future__ import annotations

import hashlib
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from functools import cached_property, lru_cache, partial
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from packaging.utils import canonicalize_name

from mphunter_gate import select as selection
from mphunter_gate.config import overall_verdict
from mphunter_gate.errors import ArchiveError, InputError, PackageIndexError
from mphunter_gate.fetch.archive import DirTree, open_tree
from mphunter_gate.fetch.index import MAX_DOWNLOAD
from mphunter_gate.types import (
    Artifact,
    Dependency,
    Distribution,
    FileKind,
    Finding,
    HitLevel,
    JudgedFile,
    LocalProject,
    Origin,
    ParseMode,
    PolicyHit,
    Report,
    Script,
    ScriptAnalysis,
    ScriptKind,
    ScriptScore,
    ScriptSet,
    Stage,
    Unresolvable,
    Verdict,
)
from mphunter_gate.verdicts import FileKey, FileMemo, Judged, VerdictCache, compact

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

if TYPE_CHECKING:
    from mphunter_gate.fetch.choose import Pick
    from mphunter_gate.fetch.index import Index
    from mphunter_gate.model import Detector
    from mphunter_gate.model.known import KnownFiles
    from mphunter_gate.policy.advisories import AdvisoryDB
    from mphunter_gate.policy.age import Cooldown
    from mphunter_gate.target import Target

log = logging.getLogger(__name__)

NO_SCRIPT = "no install-time script"


@dataclass(frozen=True)
class GateOptions:
    """Knobs of one run; defaults live in `config.py`, not here."""

    threshold: float | None = None  # None: the manifest's calibrated threshold
    allow_unscanned: bool = False
    file_search_mode: str = "all_files"
    graph_mode: str = "cfg+cg"
    prefix_len: int = 2
    #: Targets to judge for (every combination; empty: this interpreter and machine).
    #: Resolution uses the first of each; every target's installer pick is judged.
    python_versions: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    #: Fail closed on a judged file whose hash neither the index nor the dependency
    #: file gave (its bytes were hashed on download, but nothing vouches for them).
    require_hashes: bool = False
    workers: int = 8
    #: Report files byte-identical to benign corpus files as `known` without analysing
    #: them (`model/known.py`); False analyses every file (to measure the models).
    known_files: bool = True
    cache_dir: Path | None = None  # verdict cache; None: judge every artifact afresh
    # What is known before analysis (`mphunter_gate/policy/`), for `check`.
    advisories: AdvisoryDB | None = None  # malware advisories; None: none checked
    min_release_age: timedelta | None = None  # cooldown; None: off
    min_release_age_missing: str = "fail"  # no upload time: "fail" (unscanned) or "allow"
    lookalike: bool = True  # flag names like far more downloaded projects
    now: datetime | None = None  # the run's clock for release ages (None: now)


class Progress(Protocol):
    """What the gate reports while it works (report.progress.Progress fits)."""

    def start(self, total: int) -> None: ...
    def advance(self, label: str) -> None: ...


TreeReader = Callable[[], ScriptSet]


class Judge:
    """Scores a package's scripts with the bundled models.

    Loading the models costs about a second (gensim, hdbscan, scipy); the
    judge is built once per run and only when some package has scripts.
    """

    def __init__(self, options: GateOptions, models_dir: Path | None = None) -> None:
        self.options = options
        self._models_dir = models_dir
        self._detector: Detector | None = None

    @property
    def detector(self) -> Detector:
        if self._detector is None:
            from mphunter_gate.model import Detector

            self._detector = Detector.load(self._models_dir)
        return self._detector

    @property
    def _models_root(self) -> Path:
        """The models folder given, else the bundled one (found without loading them)."""
        from mphunter_gate.models_dir import default_models_dir

        return self._models_dir or default_models_dir()

    @cached_property
    def _manifest(self) -> dict[str, object]:
        """threshold and model_version, read without loading the models themselves.

        A run where every package says "no install-time script" never pays
        for gensim and hdbscan.
        """
        import json

        from mphunter_gate.errors import ModelError

        path = self._models_root / "manifest.json"
        try:
            manifest = dict(json.loads(path.read_text()))
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot read model manifest {path}: {exc}") from exc
        threshold = manifest.get("threshold")
        # NaN compares false with everything: a NaN threshold would pass every package.
        if not isinstance(threshold, int | float) or not 0.0 <= threshold <= 1.0:
            raise ModelError(f"{path}: threshold {threshold!r} is not a number in [0, 1]")
        return manifest

    @property
    def threshold(self) -> float:
        if self.options.threshold is not None:
            return self.options.threshold
        return float(self._manifest["threshold"])  # type: ignore[arg-type]

    def fails(
        self, analysis: ScriptAnalysis | None, score: ScriptScore, strict: bool = False
    ) -> bool:
        """Whether one script's score fails its package.

        Where calibration saw such files (install, startup, top-level `__init__.py`)
        the threshold decides. Deeper modules, entry points and call-time code must
        also fire a payload behaviour (`data/module_evidence.toml`, which says why),
        unless `strict`: a package named like a far more downloaded one
        (`policy/lookalike.py`) gets no such benefit of the doubt.
        """
        if score.score < self.threshold:
            return False
        if strict or analysis is None or not _beyond_calibration(analysis):
            return True
        return not module_evidence().isdisjoint(score.behaviours)

    @property
    def model_version(self) -> str:
        return str(self._manifest["model_version"])

    @cached_property
    def cache(self) -> VerdictCache | None:
        if self.options.cache_dir is None:
            return None
        from mphunter_gate.select import SELECTION_VERSION

        opts = {
            "selection": SELECTION_VERSION,  # a verdict on fewer files is no verdict now
            "graph_mode": self.options.graph_mode,
            "prefix_len": self.options.prefix_len,
            "file_search_mode": self.options.file_search_mode,
            # A file once scored may be known now, which changes its artifact's verdict.
            "known": self._known_record.get("sha256") if self.options.known_files else None,
        }
        return VerdictCache(self.options.cache_dir, self.model_version, opts)

    @cached_property
    def _memo(self) -> FileMemo:
        """Files judged before, in this run or (with a cache) an earlier one."""
        return FileMemo(self.cache.files() if self.cache is not None else None)

    @property
    def _known_record(self) -> dict[str, object]:
        record = self._manifest.get("known")
        return record if isinstance(record, dict) else {}

    @cached_property
    def known(self) -> KnownFiles | None:
        """The models' known-benign file set, sha256-checked; None when the models
        ship none or the run asked to analyse every file."""
        from mphunter_gate.errors import ModelError
        from mphunter_gate.model.known import KnownFiles
        from mphunter_gate.model.manifest import sha256_file

        record = self._known_record
        if not self.options.known_files or not record:
            return None
        path = self._models_root / str(record.get("file"))
        try:
            if sha256_file(path) != record.get("sha256"):
                raise ModelError(f"{path}: sha256 does not match the model manifest")
            return KnownFiles.load(path)
        except (OSError, ValueError) as exc:
            raise ModelError(f"{path}: cannot load the known-benign file set: {exc}") from exc

    def analyse(self, scripts: ScriptSet) -> Judged:
        """Analyse and score every script of one package (the expensive part)."""
        from mphunter_gate.analysis import analyse, tokens

        if not scripts.scripts:
            return Judged(scripts.note, (), ())
        keys = [FileMemo.key(s.text, s.kind, s.stage) for s in scripts.scripts]
        hits = self._memo.get_many(keys, [s.path for s in scripts.scripts])
        known = self.known
        if known is not None:
            hits = [
                (_known_analysis(s), None) if hit is None and known.knows(s) else hit
                for s, hit in zip(scripts.scripts, hits, strict=True)
            ]
        todo = [s for s, hit in zip(scripts.scripts, hits, strict=True) if hit is None]
        fresh: list[ScriptAnalysis] = []
        new_scores: Iterator[ScriptScore] = iter(())
        if todo:  # a package of known files never loads the models
            detector = self.detector
            fresh = [
                analyse(script, graph_mode=self.options.graph_mode, priority=detector.priority)
                for script in todo
            ]
            parsed = [a for a in fresh if a.parse is not ParseMode.FAILED]
            # One batch per artifact: the combiner's per-call cost is paid once, not once
            # per file of a package that may hold thousands.
            new_scores = iter(
                detector.score_many(
                    parsed, [tokens(a, prefix_len=self.options.prefix_len) for a in parsed]
                )
            )
        fresh_iter = iter(fresh)
        from mphunter_gate.analysis.categories import categories_of

        def important(api: str) -> bool:
            return bool(categories_of(api))

        analyses: list[ScriptAnalysis] = []
        scores: list[ScriptScore] = []
        learnt: list[tuple[FileKey, ScriptAnalysis, ScriptScore | None]] = []
        for key, hit in zip(keys, hits, strict=True):
            if hit is None:
                a = compact(next(fresh_iter), important)
                s = next(new_scores) if a.parse is not ParseMode.FAILED else None
                learnt.append((key, a, s))
            else:
                a, s = hit
            analyses.append(a)
            if s is not None:
                scores.append(s)
        self._memo.put_many(learnt)
        return Judged(scripts.note, tuple(analyses), tuple(scores))

    def judge_tree(
        self, tree_reader: TreeReader, sha256: str | None, base: Finding, strict: bool = False
    ) -> Finding:
        """The verdict for one artifact, from the cache when its bytes were judged before."""
        cache = self.cache if sha256 else None
        judged = cache.get(sha256) if cache and sha256 else None
        if judged is None:
            scripts = tree_reader()
            judged = self.analyse(scripts)
            if cache and sha256:
                cache.put(sha256, judged)
        return self.verdict(judged, base, strict)

    def verdict(self, judged: Judged, base: Finding, strict: bool = False) -> Finding:
        """Compare the riskiest script with the threshold; any failed analysis fails closed.

        `strict` (a look-alike name) fails a file at or above the threshold wherever
        it sits in the package (see `fails`)."""
        if not judged.analyses:
            return replace(base, reason=judged.note or NO_SCRIPT)
        analyses, scores = judged.analyses, judged.scores
        failed = [a for a in analyses if a.parse is ParseMode.FAILED]
        cut = [a for a in analyses if a.truncated]
        by_path = {a.path: a for a in analyses}
        over = [s for s in scores if self.fails(by_path.get(s.path), s, strict)]
        top = max(over or scores, key=lambda s: s.score) if scores else None
        if top is not None and over:
            verdict = Verdict.FAIL
            reason = f"{top.path} scores {top.score:.3f} >= threshold {self.threshold:.3f}"
            analysis = by_path.get(top.path)
            if analysis is not None and _beyond_calibration(analysis):
                shown = sorted(module_evidence().intersection(top.behaviours))
                if shown:
                    reason += f" and does what payloads do ({', '.join(shown)})"
                elif strict:
                    reason += " (extra scrutiny: the package is named like a popular one)"
        elif failed:
            verdict = Verdict.UNSCANNED
            reason = f"analysis failed: {failed[0].path}: {failed[0].error}"
        elif cut:  # what lies past the cut was never examined, so it cannot pass
            verdict = Verdict.UNSCANNED
            reason = (
                f"analysis of {cut[0].path} was cut at a size cap or work budget"
                + (f" ({len(cut)} files)" if len(cut) > 1 else "")
                + "; the rest of it was not examined"
            )
        else:
            verdict = Verdict.PASS
            known = sum(1 for a in analyses if a.parse is ParseMode.KNOWN)
            # Modules beyond calibration at or above the threshold pass only for want of
            # a payload behaviour: say so, and which, rather than "below threshold".
            high = [s for s in scores if s.score >= self.threshold]
            below = len(scores) - len(high)
            parts = [f"{below} script(s) below threshold"] if below or not (known or high) else []
            if high:
                worst = max(high, key=lambda s: s.score)
                parts.append(
                    f"{len(high)} module(s) beyond the calibrated stages at or above it but "
                    f"doing nothing payloads do (worst {worst.path} {worst.score:.3f})"
                )
            if known:
                parts.append(f"{known} byte-identical to benign corpus files")
            reason = ", ".join(parts)
        if judged.note:
            reason = f"{judged.note}: {reason}"
        return replace(
            base,
            verdict=verdict,
            score=top.score if top else None,
            reason=reason,
            analyses=analyses,
            scores=scores,
        )


def _beyond_calibration(analysis: ScriptAnalysis) -> bool:
    """A module deeper than calibration read: imported below the top level, an entry
    point, or call-time code (setup.py's own helpers stay at `install`)."""
    return analysis.kind is ScriptKind.MODULE and analysis.stage in (
        Stage.IMPORT,
        Stage.ENTRY_POINT,
        Stage.CALL,
    )


@lru_cache(maxsize=1)
def module_evidence() -> frozenset[str]:
    """The behaviours a module beyond calibration must fire to fail (reviewed data)."""
    text = resources.files("mphunter_gate.data").joinpath("module_evidence.toml").read_text()
    return frozenset(str(b) for b in tomllib.loads(text)["behaviours"])


def _unscanned(
    name: str, version: str, source: str, reason: str, origin: Origin | None = None
) -> Finding:
    return Finding(
        name=name,
        version=version,
        source=source,
        verdict=Verdict.UNSCANNED,
        score=None,
        reason=reason,
        origin=origin,
    )


def _declared(text: str) -> tuple[str, str]:
    """Name and pinned version of a dependency the gate could not scan, as
    far as its declaration says (`pkg==1.0` -> ("pkg", "1.0")); a URL or a
    path stays whole, so the report shows what the user wrote."""
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        req = Requirement(text)
    except InvalidRequirement:
        return text, ""
    if req.url:
        return text, ""
    pins = [
        s.version for s in req.specifier if s.operator in ("==", "===") and "*" not in s.version
    ]
    return req.name, pins[0] if len(pins) == 1 else ""


def _report(judge: Judge, findings: list[Finding]) -> Report:
    options = judge.options
    advisories = options.advisories.data(_now(options)) if options.advisories else None
    return Report(
        verdict=overall_verdict(findings, options.allow_unscanned),
        threshold=judge.threshold,
        model_version=judge.model_version,
        findings=tuple(findings),
        advisories=advisories,
    )


def _now(options: GateOptions) -> datetime:
    return options.now or datetime.now(timezone.utc)


# -- policy: what is known before analysis -------------------------------------------


def _cooldown(options: GateOptions) -> Cooldown | None:
    from mphunter_gate.policy.age import Cooldown

    if options.min_release_age is None:
        return None
    return Cooldown(options.min_release_age, _now(options), options.min_release_age_missing)


def _named_hits(options: GateOptions, name: str, version: str) -> list[PolicyHit]:
    """What the name and version alone tell: malware advisories, a look-alike name."""
    from mphunter_gate.config import is_project_name
    from mphunter_gate.policy import lookalike

    hits: list[PolicyHit] = []
    if options.advisories is not None and version:
        hits += options.advisories.hits(name, version)
    if options.lookalike and is_project_name(name):
        found = lookalike.check(name)
        if found is not None:
            hits.append(found)
    return hits


def _release_hits(
    options: GateOptions, index: Index, dist: Distribution, dist_picks: Sequence[Pick]
) -> list[PolicyHit]:
    """What the index tells about the judged files: their age, whether they are yanked."""
    from mphunter_gate.policy import age, yanked

    hits: list[PolicyHit] = []
    installed = [p.file for p in dist_picks if p.installs_on]
    found = yanked.check(installed, exact=dist.exact)
    if found is not None:
        hits.append(found)
    cooldown = _cooldown(options)
    if cooldown is not None:
        too_new = age.check([p.file for p in dist_picks], cooldown)
        if too_new is not None and too_new.level is HitLevel.FAIL and not dist.exact:
            too_new = replace(too_new, message=too_new.message + _suggestion(index, dist, cooldown))
        if too_new is not None:
            hits.append(too_new)
    return hits


def _suggestion(index: Index, dist: Distribution, cooldown: Cooldown) -> str:
    """`; newest release old enough: foo==1.4 (uploaded 12 days ago)`, for a loose
    requirement the user can pin instead."""
    from packaging.version import InvalidVersion, Version

    from mphunter_gate.policy.age import humanize, newest_old_enough
    from mphunter_gate.resolve import releases

    try:
        below: Version | None = Version(dist.version)
    except InvalidVersion:
        below = None
    try:
        by_version = releases(index.project_files(dist.name), dist.name)
    except PackageIndexError:
        return ""
    found = newest_old_enough(by_version, dist.specifier, cooldown, below)
    if found is None:
        return f"; no release allowed by {dist.specifier or 'the requirement'} is old enough"
    return (
        f"; newest release old enough: {dist.name}=={found.version} "
        f"(uploaded {humanize(cooldown.now - found.uploaded)} ago)"
    )


# -- scan: local files -------------------------------------------------------


def _name_version(path: Path) -> tuple[str, str]:
    """Best-effort name and version of a local archive or folder, from its filename."""
    from packaging.utils import (
        InvalidSdistFilename,
        InvalidWheelFilename,
        parse_sdist_filename,
        parse_wheel_filename,
    )

    fname = path.name
    try:
        if fname.endswith(".whl"):
            n, v, _, _ = parse_wheel_filename(fname)
            return str(n), str(v)
        n, v = parse_sdist_filename(fname)
        return str(n), str(v)
    except (InvalidSdistFilename, InvalidWheelFilename, ValueError):
        pass
    stem = fname
    for ext in (".tar.gz", ".tar.bz2", ".tgz", ".zip", ".tar"):
        stem = stem.removesuffix(ext)
    name, _, version = stem.rpartition("-")
    if name and version[:1].isdigit():
        return name, version
    return stem, ""


def read_local(path_text: str, mode: str) -> ScriptSet:
    """The install-time scripts of a local archive or unpacked folder."""
    return _local(path_text, mode)[1]()


def _local(path_text: str, mode: str) -> tuple[str | None, TreeReader]:
    """sha256 of a local archive (None for a folder) and how to read its scripts."""
    path = Path(path_text)
    if not path.exists():
        raise InputError("no such file or directory", file=path_text)
    if not path.is_dir() and not path.is_file():  # a FIFO would block, /dev/zero never end
        raise InputError("not a regular file or folder", file=path_text)
    name, version = _name_version(path)
    if not path.is_dir() and path.stat().st_size > MAX_DOWNLOAD:
        raise InputError(
            f"larger than {MAX_DOWNLOAD // 2**20} MiB, the archive cap", file=path_text
        )
    data = None if path.is_dir() else path.read_bytes()
    sha = hashlib.sha256(data).hexdigest() if data is not None else None

    def reader() -> ScriptSet:
        tree = DirTree(path) if data is None else open_tree(data, path.name)
        scripts = selection.select(tree, mode)
        note = None if scripts else NO_SCRIPT
        return ScriptSet(name, version, path_text, sha, scripts, note)

    return sha, reader


def scan(
    paths: Sequence[str],
    options: GateOptions,
    models_dir: Path | None = None,
    progress: Progress | None = None,
) -> Report:
    """Score local sdists, wheels or folders; no network."""
    judge = Judge(options, models_dir)
    findings = []
    if progress:
        progress.start(len(paths))
    for p in paths:
        if progress:
            progress.advance(p)
        name, version = _name_version(Path(p))
        sha, reader = _local(p, options.file_search_mode)
        base = Finding(name, version, p, Verdict.PASS, None, NO_SCRIPT, sha256=sha)
        try:
            findings.append(judge.judge_tree(reader, sha, base))
        except ArchiveError as exc:
            findings.append(_unscanned(name, version, p, f"unreadable archive: {exc}"))
    return _report(judge, findings)


# -- check: dependency files ---------------------------------------------------


def _known_analysis(script: Script) -> ScriptAnalysis:
    """The record of a file byte-identical to a benign corpus file: nothing to analyse."""
    return ScriptAnalysis(script.path, script.kind, ParseMode.KNOWN, (), stage=script.stage)


def _artifact_scripts(art: Artifact, mode: str) -> ScriptSet:
    scripts = selection.select(open_tree(art.data, art.filename), mode)
    return ScriptSet(
        name=art.name,
        version=art.version,
        source=art.filename,
        sha256=art.sha256,
        scripts=scripts,
        note=None if scripts else NO_SCRIPT,
    )


def collect(
    files: Sequence[Path],
) -> tuple[list[Dependency], list[Unresolvable | LocalProject], list[str], list[str]]:
    """Read every dependency file; returns deps, the rows that are not resolved (what
    cannot be scanned, and the user's own local projects) and index URLs they name."""
    from mphunter_gate.sources import source_for

    deps: list[Dependency] = []
    bad: list[Unresolvable | LocalProject] = []
    index_urls: list[str] = []
    extra: list[str] = []
    for f in files:
        if not f.exists():
            raise InputError("no such file", file=str(f))
        src = source_for(f)
        for item in src.collect():
            if isinstance(item, Dependency):
                deps.append(item)
            else:
                bad.append(item)
        index_urls += getattr(src, "index_urls", [])
        extra += getattr(src, "extra_index_urls", [])
    return deps, bad, index_urls, extra


def targets(options: GateOptions) -> list[Target]:
    """Every (Python version, platform) combination asked for; the first resolves."""
    from mphunter_gate.target import Target

    versions: Sequence[str | None] = options.python_versions or (None,)
    platforms: Sequence[str | None] = options.platforms or (None,)
    return [Target.create(v, p) for v in versions for p in platforms]


#: Rounds of build dependencies followed (an sdist built with an sdist built with ...).
MAX_BUILD_ROUNDS = 3


def check(
    deps: Sequence[Dependency],
    unresolvable: Sequence[Unresolvable | LocalProject],
    index: Index,
    options: GateOptions,
    models_dir: Path | None = None,
    progress: Progress | None = None,
) -> Report:
    """Resolve, fetch and score a project's whole dependency tree.

    Each release is judged by every file pip would install from it on the
    requested targets, and by its sdist; its verdict is the worst of them.
    A release pip would build from its sdist on the first target brings its
    build requirements (`[build-system] requires`, `setup_requires`): they are
    resolved on their own, as pip's isolated build environment does, and
    judged like any dependency, their rows saying whose build needs them.
    """
    from mphunter_gate.resolve import resolve

    judge = Judge(options, models_dir)
    wanted_targets = targets(options)
    first_version = options.python_versions[0] if options.python_versions else None
    first_platform = options.platforms[0] if options.platforms else None
    findings: list[Finding] = []
    judged_releases: set[tuple[str, str]] = set()
    # A build requirement -> the releases (name==version) whose sdist build needs it:
    # what the round just judged asks of the next one.
    requested: dict[str, list[str]] = {}
    work: Sequence[Dependency] = deps
    for round_ in range(MAX_BUILD_ROUNDS + 1):
        dists, bad = resolve(work, index, python_version=first_version, platform=first_platform)
        if round_ == 0:
            findings += [_policy_row(_unresolved_row(u), options) for u in (*unresolvable, *bad)]
        else:  # pip cannot build without it, so nothing unexamined would be installed
            findings = [_build_gap(f, bad, requested) for f in findings]
        needed_by: dict[str, list[str]] = {}
        for req, who in requested.items():
            needed_by.setdefault(canonicalize_name(_declared(req)[0]), []).extend(who)
        fresh = [d for d in dists if (d.name, d.version) not in judged_releases]
        judged_releases.update((d.name, d.version) for d in fresh)
        asks: dict[str, list[Finding]] = {}
        for finding, needs in _judge_dists(judge, index, options, wanted_targets, fresh, progress):
            if round_:  # a release pip installs only into a build environment
                who = list(dict.fromkeys(needed_by.get(finding.name) or ["an sdist build"]))
                note = f"build dependency of {', '.join(who)}"
                finding = replace(finding, notes=(*finding.notes, note), build_for=tuple(who))
            findings.append(finding)
            if round_ < MAX_BUILD_ROUNDS:
                for req in needs:
                    asks.setdefault(req, []).append(finding)
        if not asks:
            break
        work = [
            Dependency(
                req,
                next((r.origin for r in rows if r.origin), None) or Origin("build requirements", 1),
            )
            for req, rows in asks.items()
        ]
        requested = {req: [f"{r.name}=={r.version}" for r in rows] for req, rows in asks.items()}
    clock = getattr(index, "clock", None)
    if clock is not None:  # a request the run's deadline cut, even one a fallback swallowed
        clock.raise_if_passed()
    return _report(judge, findings)


def _policy_row(finding: Finding, options: GateOptions) -> Finding:
    """A row the gate did not judge, with what its declared name and pin tell."""
    from mphunter_gate.policy.verdict import with_hits

    if finding.version == "local":  # the user's own project
        return finding
    return with_hits(finding, _named_hits(options, finding.name, finding.version))


def _unresolved_row(item: Unresolvable | LocalProject) -> Finding:
    """The row of a dependency the gate does not resolve: unscanned, or the user's own
    project (passed: it is theirs; its requirements have rows of their own)."""
    if isinstance(item, LocalProject) and item.complete:
        return Finding(
            name=item.name,
            version="local",
            source=item.origin.file,
            verdict=Verdict.PASS,
            score=None,
            reason=item.reason,
            origin=item.origin,
        )
    return _unscanned(*_declared(item.text), item.origin.file, item.reason, item.origin)


def _build_gap(
    finding: Finding, unresolved: Sequence[Unresolvable], requested: dict[str, list[str]]
) -> Finding:
    """`finding` with a note for each of its build requirements that cannot be resolved."""
    label = f"{finding.name}=={finding.version}"
    notes = [
        f"build requirement {u.text} cannot be resolved ({u.reason}): pip cannot build "
        "this sdist from this index"
        for u in unresolved
        if label in requested.get(u.text, ())
    ]
    return replace(finding, notes=(*finding.notes, *notes)) if notes else finding


def _judge_dists(
    judge: Judge,
    index: Index,
    options: GateOptions,
    wanted_targets: list[Target],
    dists: list[Distribution],
    progress: Progress | None,
) -> Iterator[tuple[Finding, tuple[str, ...]]]:
    """Each release's row, and the build requirements of the sdist pip would build
    on the first target (empty when a wheel installs there)."""
    from mphunter_gate.fetch.choose import picks
    from mphunter_gate.fetch.metadata import build_requirements
    from mphunter_gate.policy.lookalike import RULE as LOOKALIKE
    from mphunter_gate.policy.verdict import with_hits

    first = wanted_targets[0]
    chosen = [(d, picks(d, wanted_targets)) for d in dists]
    blobs = iter(
        index.fetch_many([p.file for _, ps in chosen for p in ps], workers=options.workers)
    )
    if progress:
        progress.start(len(chosen))
    for dist, dist_picks in chosen:
        if progress:
            progress.advance(f"{dist.name}=={dist.version}")
        named = _named_hits(options, dist.name, dist.version)
        if not dist_picks:
            why = (
                "no file matches the pinned hashes"
                if dist.hashes
                else "no sdist or wheel on the index"
            )
            row = _unscanned(dist.name, dist.version, dist.name, why, dist.origin)
            yield with_hits(row, named), ()
            continue
        strict = any(h.rule == LOOKALIKE for h in named)
        judged: list[JudgedFile] = []
        needs: tuple[str, ...] = ()
        for pick in dist_picks:
            data = next(blobs)
            judged.append(_judge_file(judge, dist, pick, data, options, strict))
            built = pick.file.kind is FileKind.SDIST and first.label in pick.installs_on
            if built and isinstance(data, bytes):
                try:
                    needs = build_requirements(data, pick.file.filename)
                except ArchiveError:
                    needs = ()  # the sdist itself is reported unscanned
        finding = _combine(dist, judged, first.label)
        if dist.notes:
            finding = replace(finding, reason=finding.reason + "; " + "; ".join(dist.notes))
        hits = [*named, *_release_hits(options, index, dist, dist_picks)]
        yield with_hits(finding, hits), needs


def _judge_file(
    judge: Judge,
    dist: Distribution,
    pick: Pick,
    data: bytes | PackageIndexError,
    options: GateOptions,
    strict: bool = False,
) -> JudgedFile:
    """The verdict on one downloaded file of a release."""
    file = pick.file

    def result(
        verdict: Verdict, reason: str, sha: str | None = None, found: Finding | None = None
    ) -> JudgedFile:
        return JudgedFile(
            filename=file.filename,
            sha256=sha,
            kind=file.kind,
            installs_on=pick.installs_on,
            verdict=verdict,
            score=found.score if found else None,
            reason=reason,
            index_hash=file.sha256 is not None or bool(dist.hashes),
            analyses=found.analyses if found else (),
            scores=found.scores if found else (),
        )

    if isinstance(data, PackageIndexError):
        return result(Verdict.UNSCANNED, str(data))
    sha = hashlib.sha256(data).hexdigest()
    if dist.hashes and sha not in dist.hashes:
        return result(Verdict.UNSCANNED, f"hash {sha} is not among the pinned --hash values", sha)
    if options.require_hashes and file.sha256 is None and not dist.hashes:
        return result(
            Verdict.UNSCANNED,
            "neither the index nor the dependency file gives this file's sha256 (--require-hashes)",
            sha,
        )
    art = Artifact(dist.name, dist.version, file.filename, sha, file.kind, data)
    base = Finding(dist.name, dist.version, file.filename, Verdict.PASS, None, NO_SCRIPT)
    try:
        found = judge.judge_tree(
            partial(_artifact_scripts, art, options.file_search_mode), sha, base, strict
        )
    except ArchiveError as exc:
        return result(Verdict.UNSCANNED, f"unreadable archive: {exc}", sha)
    return result(found.verdict, found.reason, sha, found)


#: Which file of a release decides its verdict: a failure before an unscanned file
#: before a pass, then the higher score.
_SEVERITY = {Verdict.FAIL: 2, Verdict.UNSCANNED: 1, Verdict.PASS: 0}


def _combine(dist: Distribution, judged: list[JudgedFile], first_target: str) -> Finding:
    """One package row from the verdicts on its files: the worst file decides it.

    `sha256` (what `install` pins) is the first target's installer pick; when no
    file installs there (no fitting wheel, no sdist), it is left empty so that
    `install` refuses rather than guesses.
    """
    worst = max(judged, key=lambda j: (_SEVERITY[j.verdict], j.score or 0.0))
    installed = next((j for j in judged if first_target in j.installs_on), None)
    reason = worst.reason
    if len(judged) > 1:
        reason = f"{worst.filename}: {reason}"
    if installed is None:
        reason += f"; no file of this release installs on {first_target}"
    unhashed = [j.filename for j in judged if not j.index_hash]
    notes = tuple(f"the index gave no sha256 for {name}" for name in unhashed)
    return Finding(
        name=dist.name,
        version=dist.version,
        source=(installed or worst).filename,
        verdict=worst.verdict,
        score=max((j.score for j in judged if j.score is not None), default=None),
        reason=reason,
        origin=dist.origin,
        sha256=installed.sha256 if installed else None,
        analyses=worst.analyses,
        scores=worst.scores,
        notes=notes,
        files=tuple(judged),
    )
