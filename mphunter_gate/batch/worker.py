"""What runs on a Dask worker: judge a few packages, within a deadline.

Loading the models costs seconds and hundreds of MiB, so each worker process
loads them once (`judge_for`, a process-level cache, warmed by `Preload` when
the worker starts) and keeps them for every task it runs. A task judges its
packages in a thread and waits at most the deadline: a hostile package that
stalls the analysis cannot hold the worker. The task then returns what it
finished, which package stalled and which never started; the driver restarts
the worker (killing the stalled thread with it) and retries.

Nothing here runs package code: files are read as text by the gate's own
engine (`gate.Judge`, `gate.read_local`, the index client).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from distributed.diagnostics.plugin import WorkerPlugin

from mphunter_gate.batch.rows import item_unscanned, row_of, unscanned_row
from mphunter_gate.batch.store import Row
from mphunter_gate.batch.work import WorkItem
from mphunter_gate.errors import ArchiveError, GateError

if TYPE_CHECKING:
    from mphunter_gate.fetch.index import Index
    from mphunter_gate.gate import GateOptions, Judge

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Settings:
    """Everything a worker needs to judge, sent with every task (small, picklable)."""

    options: GateOptions
    models_dir: Path | None
    index_url: str | None
    deadline: float
    cache_dir: Path | None = None  # the index's page cache on the worker (None: default)


@dataclass(frozen=True)
class Outcome:
    """One item's rows (new judgements) and the keys it skipped as already stored."""

    rows: tuple[Row, ...]
    skipped: tuple[str, ...] = ()


@dataclass(frozen=True)
class TaskResult:
    """What a task hands back to the driver."""

    done: tuple[tuple[WorkItem, Outcome], ...]
    stalled: WorkItem | None  # the item being judged when the deadline passed
    unstarted: tuple[WorkItem, ...]  # items after it, never started
    worker: str | None  # the worker's address, to restart it after a stall
    pid: int
    loads: int  # model loads in this process for these settings (1 when cached right)


ItemJudge = Callable[[WorkItem, "Judge", Settings, frozenset[str]], Outcome]

_JUDGES: dict[tuple[Any, ...], Judge] = {}
_INDEXES: dict[tuple[Any, ...], Index] = {}
#: Judges built in this process, per settings key (1 each when the cache works).
_LOADS: dict[tuple[Any, ...], int] = {}
_LOCK = threading.Lock()


def judge_for(settings: Settings) -> Judge:
    """This process's judge for these settings, its models loaded once."""
    from mphunter_gate.gate import Judge

    key = (settings.options, settings.models_dir)
    with _LOCK:
        judge = _JUDGES.get(key)
        if judge is None:
            judge = Judge(settings.options, settings.models_dir)
            judge.detector  # noqa: B018 - load now, before any task's clock starts
            judge.known  # noqa: B018
            _JUDGES[key] = judge
            _LOADS[key] = _LOADS.get(key, 0) + 1
        return judge


def index_for(settings: Settings) -> Index:
    from mphunter_gate.fetch.index import Index

    key = (settings.index_url, settings.cache_dir)
    with _LOCK:
        index = _INDEXES.get(key)
        if index is None:
            index = Index(settings.index_url, cache_dir=settings.cache_dir)
            _INDEXES[key] = index
        return index


class Preload(WorkerPlugin):
    """A Dask worker plugin: load the models when a worker starts (and restarts),
    so the first task's deadline measures judging, not loading."""

    name = "mphunter-gate-models"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def setup(self, worker: object) -> None:
        judge_for(self.settings)


def run_task(
    items: tuple[WorkItem, ...],
    settings: Settings,
    done: dict[str, frozenset[str]],
    item_judge: ItemJudge | None = None,
) -> TaskResult:
    """Judge `items` in order within `settings.deadline` seconds (see module docstring).

    `done` maps an item's key to the keys already stored for it (its files judged
    before), which are skipped. `item_judge` replaces `judge_item` in tests.
    """
    judge = judge_for(settings)  # before the clock: loading is not judging
    one = item_judge or judge_item
    lock = threading.Lock()
    finished: list[tuple[WorkItem, Outcome]] = []
    current: list[WorkItem | None] = [None]

    def work() -> None:
        for item in items:
            with lock:
                current[0] = item
            outcome = _guarded(one, item, judge, settings, done.get(item.key, frozenset()))
            with lock:
                finished.append((item, outcome))
                current[0] = None

    thread = threading.Thread(target=work, name="mphunter-gate-batch", daemon=True)
    thread.start()
    thread.join(settings.deadline)
    with lock:
        got = tuple(finished)
        stalled = current[0] if thread.is_alive() else None
    unstarted = items[len(got) + 1 :] if stalled is not None else ()
    loads = _LOADS.get((settings.options, settings.models_dir), 0)
    return TaskResult(got, stalled, unstarted, _address(), os.getpid(), loads)


def _address() -> str | None:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return None  # not on a Dask worker (a direct call)


def _guarded(
    one: ItemJudge, item: WorkItem, judge: Judge, settings: Settings, done: frozenset[str]
) -> Outcome:
    """`one(item)`, and fail closed on whatever it could not finish.

    The gate's own errors (an index that failed, a file that vanished) are the
    item's reason; anything else is a bug of ours, logged with its traceback and
    recorded as the item's reason, so one package never stops a batch of 700k
    and never passes unexamined.
    """
    try:
        return one(item, judge, settings, done)
    except GateError as exc:
        reason = str(exc)
    except Exception as exc:  # the reason is recorded: the item is unscanned, not passed
        log.exception("internal error judging %s", item.label)
        reason = f"internal error: {type(exc).__name__}: {exc}"
    return Outcome((item_unscanned(item, reason, judge.model_version),))


def judge_item(item: WorkItem, judge: Judge, settings: Settings, done: frozenset[str]) -> Outcome:
    """The rows of one item: a local path, or a project's release from the index."""
    if item.kind == "path":
        return _judge_path(item, judge, settings)
    return _judge_project(item, judge, settings, done)


def _judge_path(item: WorkItem, judge: Judge, settings: Settings) -> Outcome:
    from mphunter_gate.batch.work import tree_digest
    from mphunter_gate.gate import NO_SCRIPT, read_local
    from mphunter_gate.types import Finding, Verdict

    path = Path(item.target)
    model = judge.model_version
    try:
        scripts = read_local(item.target, settings.options.file_search_mode)
    except ArchiveError as exc:
        sha = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
        reason = f"unreadable archive: {exc}"
        return Outcome(
            (unscanned_row(sha or item.key, path.name, "", path.name, sha, reason, model),)
        )
    sha = scripts.sha256
    key = sha or tree_digest(path)
    base = Finding(
        scripts.name, scripts.version, item.target, Verdict.PASS, None, NO_SCRIPT, sha256=sha
    )
    found = judge.judge_tree(lambda: scripts, sha, base)
    return Outcome((row_of(found, key, path.name, model),))


def _judge_project(
    item: WorkItem, judge: Judge, settings: Settings, done: frozenset[str]
) -> Outcome:
    """The release asked for (else the newest), by every file `check` would judge of
    it: the installer's pick on the run's target and the sdist."""
    from packaging.version import Version

    from mphunter_gate import select as selection
    from mphunter_gate.fetch.archive import open_tree
    from mphunter_gate.fetch.choose import picks
    from mphunter_gate.gate import NO_SCRIPT, targets
    from mphunter_gate.resolve import releases
    from mphunter_gate.types import Distribution, Finding, ScriptSet, Verdict

    index = index_for(settings)
    model = judge.model_version
    by_version = releases(index.project_files(item.target), item.target)
    if item.version is not None:
        chosen = [v for v in by_version if str(v) == item.version or v == _version(item.version)]
    else:
        ordered = sorted(by_version, reverse=True)
        final = [v for v in ordered if not v.is_prerelease and not _all_yanked(by_version[v])]
        chosen = (final or ordered)[:1]
    if not chosen:
        what = f"no release {item.version}" if item.version else "no release"
        row = unscanned_row(
            item.key,
            item.target,
            item.version or "",
            item.target,
            None,
            f"{what} of {item.target} on the index",
            model,
        )
        return Outcome((row,))
    version: Version = chosen[0]
    dist = Distribution(item.target, str(version), None, by_version[version])
    rows: list[Row] = []
    skipped: list[str] = []
    mode = settings.options.file_search_mode
    for pick in picks(dist, targets(settings.options)):
        file = pick.file
        if file.sha256 and file.sha256 in done:
            skipped.append(file.sha256)
            continue
        try:
            data = index.fetch(file, cache=False)
        except GateError as exc:
            rows.append(
                unscanned_row(
                    file.sha256 or f"{item.key}:{file.filename}",
                    dist.name,
                    dist.version,
                    file.filename,
                    file.sha256,
                    str(exc),
                    model,
                )
            )
            continue
        sha = hashlib.sha256(data).hexdigest()
        if sha in done:
            skipped.append(sha)
            continue
        base = Finding(
            dist.name, dist.version, file.filename, Verdict.PASS, None, NO_SCRIPT, sha256=sha
        )

        def reader(data: bytes = data, filename: str = file.filename, sha: str = sha) -> ScriptSet:
            scripts = selection.select(open_tree(data, filename), mode)
            return ScriptSet(
                dist.name, dist.version, filename, sha, scripts, None if scripts else NO_SCRIPT
            )

        try:
            found = judge.judge_tree(reader, sha, base)
        except ArchiveError as exc:
            rows.append(
                unscanned_row(
                    sha,
                    dist.name,
                    dist.version,
                    file.filename,
                    sha,
                    f"unreadable archive: {exc}",
                    model,
                )
            )
            continue
        rows.append(row_of(found, sha, file.filename, model))
    return Outcome(tuple(rows), tuple(skipped))


def _version(text: str) -> object:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(text)
    except InvalidVersion:
        return None


def _all_yanked(files: tuple[Any, ...]) -> bool:
    return all(f.yanked for f in files)
