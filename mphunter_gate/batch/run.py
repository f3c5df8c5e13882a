"""The batch driver: work items in, rows in the store, on Dask distributed.

By default a `LocalCluster` of `workers` processes on this machine (bound to
127.0.0.1, no dashboard); with `scheduler` it joins an existing cluster
through the same code path, so what the tests run locally is what runs on a
cluster. The driver alone writes the store: workers return rows, and each
task's rows are committed as one transaction when it returns.

Failures are bounded and fail closed:

- a task past its deadline returns what it finished; the package it was
  judging is retried alone (its worker restarted first, which kills the
  stalled thread) and after `retries` more attempts becomes `unscanned`;
- a worker that dies (Dask's memory limit, a crash) has its task rescheduled
  by Dask up to `retries` times (`allowed-failures`); a task of several
  packages that still fails is split so one package cannot sink the others,
  a single package gets `retries` more such rounds (Dask also blames the
  bystanders queued on a dying worker), and then is `unscanned` with the reason;
- a task that never answers (a worker wedged in C code, beyond the in-task
  deadline) is cancelled at a hard limit and treated like a stall.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mphunter_gate.batch.rows import item_unscanned
from mphunter_gate.batch.store import Row, Store
from mphunter_gate.batch.work import WorkItem, tree_digest
from mphunter_gate.batch.worker import ItemJudge, Preload, Settings, TaskResult, run_task
from mphunter_gate.errors import InfraError

if TYPE_CHECKING:
    from distributed import Client, Future

    from mphunter_gate.gate import Progress

log = logging.getLogger(__name__)

#: Seconds a task may stay unanswered beyond its own deadline before the driver
#: gives up on it (queueing behind one other task, a worker restart, model loading).
HARD_GRACE = 120.0
#: Seconds to wait for a stalled worker's restart (a nanny restarts it in about 2 s).
RESTART_TIMEOUT = 30.0


@dataclass(frozen=True)
class RunOptions:
    """How the batch is spread: cluster, task size, deadline, retries, memory."""

    workers: int = 2
    scheduler: str | None = None  # tcp://host:8786: join it instead of a LocalCluster
    task_size: int = 4
    retries: int = 2
    memory_limit: str | None = "2GiB"  # per worker process (LocalCluster only)
    tasks_per_worker: int = 2  # in flight per worker: enough to keep each one busy


@dataclass(frozen=True)
class BatchResult:
    """What the batch covers: the key of every file it judged now or found judged,
    the rows it added now, and the work it skipped as already stored."""

    keys: tuple[str, ...]
    judged: int
    skipped: int
    model_version: str
    pids: frozenset[tuple[int, int]] = frozenset()  # (worker pid, its model loads)


@dataclass
class _Task:
    items: tuple[WorkItem, ...]
    attempt: int = 0
    submitted: float = 0.0


@dataclass
class _Tally:
    keys: list[str] = field(default_factory=list)
    judged: int = 0
    skipped: int = 0
    pids: set[tuple[int, int]] = field(default_factory=set)


def run_batch(
    items: Sequence[WorkItem],
    settings: Settings,
    store: Store,
    options: RunOptions,
    model_version: str,
    progress: Progress | None = None,
    item_judge: ItemJudge | None = None,
    on_commit: Callable[[int], None] | None = None,
) -> BatchResult:
    """Judge every item not yet in `store` for `model_version`; see the module docstring.

    `on_commit(judged_so_far)` is called after every committed task (tests use it to
    stop a batch halfway); `item_judge` replaces the worker's judge in tests.
    """
    tally = _Tally()
    todo = _pending(items, store, model_version, tally)
    if progress:
        progress.start(len(items))
        for _ in range(len(items) - len(todo)):
            progress.advance("already judged")
    queue = deque(
        _Task(tuple(todo[i : i + options.task_size]))
        for i in range(0, len(todo), max(1, options.task_size))
    )
    if not queue:
        return _result(tally, model_version)
    with _client(options) as client:
        client.register_plugin(Preload(settings), name=Preload.name)
        inflight: dict[Future, _Task] = {}
        while queue or inflight:
            capacity = max(1, _worker_count(client)) * options.tasks_per_worker
            while queue and len(inflight) < capacity:
                task = queue.popleft()
                done = {
                    i.key: frozenset(store.keys_of(i.target, model_version)) for i in task.items
                }
                task.submitted = time.monotonic()
                fut = client.submit(run_task, task.items, settings, done, item_judge, pure=False)
                inflight[fut] = task
            finished = [f for f in inflight if f.done()]
            if not finished:
                _hard_limit(
                    client, inflight, settings.deadline, queue, store, options, model_version, tally
                )
                time.sleep(0.05)
                continue
            for fut in finished:
                task = inflight.pop(fut)
                _settle(
                    client,
                    fut,
                    task,
                    queue,
                    store,
                    options,
                    model_version,
                    tally,
                    progress,
                    settings.deadline,
                )
                if on_commit:
                    on_commit(tally.judged)
    return _result(tally, model_version)


def _result(tally: _Tally, model_version: str) -> BatchResult:
    return BatchResult(
        tuple(dict.fromkeys(tally.keys)),
        tally.judged,
        tally.skipped,
        model_version,
        frozenset(tally.pids),
    )


def _pending(
    items: Sequence[WorkItem], store: Store, model_version: str, tally: _Tally
) -> list[WorkItem]:
    """Items with work left: a local file whose sha256 (a folder: its content hash) is
    stored is done; so is an item recorded as unscanned as a whole. A project is
    always sent (its newest release may be new), with its stored files to skip."""
    import hashlib

    keys: dict[WorkItem, str] = {}
    for item in items:
        if item.kind == "path":
            path = Path(item.target)
            keys[item] = (
                tree_digest(path)
                if path.is_dir()
                else hashlib.sha256(path.read_bytes()).hexdigest()
            )
    done = store.done_keys([*keys.values(), *(i.key for i in items)], model_version)
    todo = []
    for item in dict.fromkeys(items):
        key = keys.get(item)
        for k in (key, item.key):
            if k is not None and k in done:
                tally.keys.append(k)
                tally.skipped += 1
                break
        else:
            todo.append(item)
    return todo


def _settle(
    client: Client,
    fut: Future,
    task: _Task,
    queue: deque[_Task],
    store: Store,
    options: RunOptions,
    model_version: str,
    tally: _Tally,
    progress: Progress | None,
    deadline: float,
) -> None:
    """Store a finished task's rows, or retry / fail closed what it could not finish."""
    from distributed import KilledWorker

    if fut.status == "finished":
        result: TaskResult = fut.result()
        tally.pids.add((result.pid, result.loads))
        for item, outcome in result.done:
            tally.judged += store.add(outcome.rows)
            tally.keys += [r.key for r in outcome.rows]
            tally.keys += outcome.skipped
            tally.skipped += len(outcome.skipped)
            if progress:
                progress.advance(item.label)
        if result.stalled is not None:
            _restart(client, [result.worker] if result.worker else [])
            if result.unstarted:
                queue.appendleft(_Task(result.unstarted, task.attempt))
            _retry_or_give_up(
                _Task((result.stalled,), task.attempt),
                f"judging exceeded the task deadline of {deadline:g} s",
                queue,
                store,
                options,
                model_version,
                tally,
                progress,
            )
        return
    exc = fut.exception() if fut.status == "error" else None
    if len(task.items) > 1:  # split, so one package cannot sink the others
        queue.extend(_Task((i,), task.attempt) for i in task.items)
        return
    if isinstance(exc, KilledWorker) and task.attempt < options.retries:
        # Dask blames every task on a dying worker, the bystanders queued there too:
        # another round of the scheduler's attempts before the package is given up.
        queue.append(_Task(task.items, task.attempt + 1))
        return
    if isinstance(exc, KilledWorker):
        reason = (
            "the worker judging it died on every attempt the scheduler allows "
            "(distributed.scheduler.allowed-failures): memory limit or crash"
        )
        _give_up(task.items[0], reason, store, model_version, tally, progress)
        return
    reason = f"task failed: {type(exc).__name__}: {exc}" if exc else "task was cancelled"
    _retry_or_give_up(task, reason, queue, store, options, model_version, tally, progress)


def _retry_or_give_up(
    task: _Task,
    reason: str,
    queue: deque[_Task],
    store: Store,
    options: RunOptions,
    model_version: str,
    tally: _Tally,
    progress: Progress | None,
) -> None:
    if task.attempt < options.retries:
        queue.append(_Task(task.items, task.attempt + 1))
        return
    for item in task.items:
        _give_up(
            item, f"{reason} ({task.attempt + 1} attempts)", store, model_version, tally, progress
        )


def _give_up(
    item: WorkItem,
    reason: str,
    store: Store,
    model_version: str,
    tally: _Tally,
    progress: Progress | None,
) -> None:
    """Record `item` as unscanned with `reason`: not examined is not passed."""
    row: Row = item_unscanned(item, reason, model_version)
    tally.judged += store.add([row])
    tally.keys.append(row.key)
    if progress:
        progress.advance(item.label)


def _hard_limit(
    client: Client,
    inflight: dict[Future, _Task],
    deadline: float,
    queue: deque[_Task],
    store: Store,
    options: RunOptions,
    model_version: str,
    tally: _Tally,
) -> None:
    """Cancel tasks that have not answered long after their deadline (see module docstring)."""
    limit = 2 * deadline + HARD_GRACE
    now = time.monotonic()
    late = [f for f, t in inflight.items() if now - t.submitted > limit]
    if not late:
        return
    processing = client.processing()
    keys = {f.key for f in late}
    _restart(client, [w for w, ks in processing.items() if keys.intersection(ks)])
    for fut in late:
        task = inflight.pop(fut)
        fut.cancel()
        if len(task.items) > 1:
            queue.extend(_Task((i,), task.attempt + 1) for i in task.items)
        else:
            _retry_or_give_up(
                task,
                f"no answer within {limit:.0f} s",
                queue,
                store,
                options,
                model_version,
                tally,
                None,
            )


def _restart(client: Client, workers: list[str]) -> None:
    """Restart workers whose judging thread is stalled (the nanny starts a fresh one)."""
    if not workers:
        return
    try:
        client.restart_workers(workers, timeout=RESTART_TIMEOUT, raise_for_error=False)
    except Exception as exc:  # a stalled worker that cannot restart only costs speed
        log.warning("could not restart %s: %s", ", ".join(workers), exc)


def _worker_count(client: Client) -> int:
    return len(client.scheduler_info().get("workers", {}))


@contextmanager
def _client(options: RunOptions) -> Iterator[Client]:
    """A client of a fresh LocalCluster, or of the scheduler the user named."""
    import dask
    from distributed import Client, LocalCluster

    # Dask logs every connection and worker at INFO, and a traceback when a closing
    # cluster drops a stream; the batch reports what matters itself.
    logging.getLogger("distributed").setLevel(logging.ERROR)
    if options.scheduler:
        try:
            client = Client(options.scheduler, timeout=30)
        except (OSError, TimeoutError) as exc:
            raise InfraError(f"cannot reach the Dask scheduler {options.scheduler}: {exc}") from exc
        try:
            yield client
        finally:
            client.close()
        return
    config: dict[str, Any] = {
        "distributed.scheduler.allowed-failures": options.retries,
        # A worker pausing at 80 % would sit idle holding its task; the hard limit
        # is Dask's terminate threshold, which the driver turns into a retry.
        "distributed.worker.memory.pause": False,
        "distributed.worker.memory.spill": False,
        "distributed.worker.memory.target": False,
    }
    with dask.config.set(config):
        cluster = LocalCluster(
            n_workers=options.workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            memory_limit=options.memory_limit,
            silence_logs=logging.ERROR,
            # No dashboard; the scheduler's small HTTP endpoint on a free loopback port
            # rather than on 8787 for the whole machine.
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        )
        try:
            client = Client(cluster)
            try:
                yield client
            finally:
                client.close()
        finally:
            cluster.close()
