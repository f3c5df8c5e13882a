"""`mphunter-gate batch`: its arguments and the wiring of its stages.

Kept apart from `cli.py` so the gate's other commands stay as they are and
importing this module costs nothing: dask is imported only once a batch runs
(`run.py`, `worker.py`), so `check` and `scan` never load it.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from mphunter_gate.errors import InputError

if TYPE_CHECKING:
    from mphunter_gate.batch.store import Row, Store
    from mphunter_gate.batch.work import WorkItem
    from mphunter_gate.config import Config
    from mphunter_gate.gate import GateOptions

log = logging.getLogger("mphunter_gate")

RANK_MODES = ("positive", "negative", "p&n")
DEFAULT_DB = "mphunter-gate-batch.sqlite"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The batch's own flags (the gate's common ones are added by `cli.py`)."""
    p.add_argument("paths", nargs="*", help="local sdists, wheels or unpacked folders")
    p.add_argument("--names", type=Path, help="a file of `name` or `name==version` lines")
    p.add_argument(
        "--since-serial",
        metavar="N|last",
        help="every project of the index changed since serial N (PEP 691 `_last-serial`); "
        "`last` continues from the serial stored in --db",
    )
    p.add_argument("--index-url", help="simple index (default: pip's, else PyPI)")
    p.add_argument("--db", default=DEFAULT_DB, help=f"SQLite results file (default: {DEFAULT_DB})")
    p.add_argument(
        "--workers", type=int, default=2, help="LocalCluster worker processes (default: 2)"
    )
    p.add_argument("--scheduler", metavar="tcp://HOST:8786", help="join this Dask scheduler")
    p.add_argument("--task-size", type=int, default=4, help="packages per task (default: 4)")
    p.add_argument("--deadline", type=float, default=300.0, help="seconds per task (default: 300)")
    p.add_argument(
        "--retries", type=int, default=2, help="retries after a stall or dead worker (default: 2)"
    )
    p.add_argument("--memory-limit", default="2GiB", help="per LocalCluster worker (default: 2GiB)")
    p.add_argument("--top", type=int, help="print the K most suspicious packages (audit queue)")
    p.add_argument(
        "--rank-mode",
        choices=RANK_MODES,
        help="queue order: positive (far from benign), negative (near known malware), p&n "
        "(both; default, or the config's rank_mode)",
    )
    p.add_argument(
        "--queue",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="also write the queue here (.md, .json or .html; repeatable)",
    )
    p.add_argument(
        "--rescan-unscanned",
        action="store_true",
        help="examine again what earlier runs recorded as unscanned",
    )


def items_of(
    args: argparse.Namespace, index_url: str | None, store: Store
) -> tuple[list[WorkItem], tuple[str, int] | None]:
    """The batch's work, and the change feed's (state key, new serial) to store after it."""
    from mphunter_gate.batch.work import changed_since, from_names_file, from_paths

    items = list(from_paths(list(args.paths)))
    if args.names is not None:
        items += from_names_file(args.names)
    feed = None
    if args.since_serial is not None:
        url = index_url or "https://pypi.org/simple"
        state_key = f"serial:{url.rstrip('/')}"
        if args.since_serial == "last":
            stored = store.get_state(state_key)
            if stored is None:
                raise InputError(f"--since-serial last: no serial stored for {url} in {args.db}")
            serial = int(stored)
        else:
            try:
                serial = int(args.since_serial)
            except ValueError:
                raise InputError(
                    f"--since-serial: expected a number or `last`, got {args.since_serial!r}"
                ) from None
        changes = changed_since(url, serial)
        items += changes.items
        feed = (state_key, changes.serial)
    return list(dict.fromkeys(items)), feed


def run(args: argparse.Namespace, config: Config, options: GateOptions) -> int:
    """Run the batch; exit code from its rows (0 pass, 1 fail/unscanned, 4 nothing)."""
    from mphunter_gate.batch import queue
    from mphunter_gate.batch.run import RunOptions, run_batch
    from mphunter_gate.batch.store import open_store
    from mphunter_gate.batch.worker import Settings
    from mphunter_gate.fetch.index import default_cache_dir, pip_index_urls
    from mphunter_gate.gate import Judge
    from mphunter_gate.report.progress import Progress

    for flag, value in (("--workers", args.workers), ("--task-size", args.task_size)):
        if value < 1:
            raise InputError(f"{flag}: must be at least 1, got {value}")
    if args.deadline <= 0 or args.retries < 0:
        raise InputError("--deadline must be positive and --retries at least 0")
    if not options.python_versions:  # every worker judges for the same target
        here = f"{sys.version_info.major}.{sys.version_info.minor}"
        options = replace(options, python_versions=(here,))
    options = replace(options, cache_dir=None)  # the database is the batch's cache
    index_url = args.index_url or config.index_url or pip_index_urls()[0]
    store = open_store(args.db)
    try:
        model = Judge(options, args.models).model_version
        if args.rescan_unscanned:
            store.delete_unscanned(model)
        items, feed = items_of(args, index_url, store)
        if not items:
            log.warning("nothing to judge")
            return 4
        # The driver's cache folder, resolved here: a worker process may not share its
        # environment (MPHUNTER_GATE_CACHE).
        cache = config.cache_dir or default_cache_dir()
        settings = Settings(options, args.models, index_url, args.deadline, cache)
        run_options = RunOptions(
            workers=args.workers,
            scheduler=args.scheduler,
            task_size=args.task_size,
            retries=args.retries,
            memory_limit=args.memory_limit,
        )
        progress = Progress()
        try:
            result = run_batch(items, settings, store, run_options, model, progress)
        finally:
            progress.close()
        if feed is not None:  # only a batch that finished moves the feed on
            store.set_state(feed[0], str(feed[1]))
        rows = store.rows(result.keys, model)
        _summary(rows, len(items), result.judged, result.skipped, args.db)
        if args.top is not None:
            rank_mode = args.rank_mode or str(dict(config.train_overrides).get("rank_mode", "p&n"))
            built = queue.build(rows, args.top, rank_mode)
            sys.stdout.write(queue.render(built, "markdown"))
            for path in args.queue:
                try:
                    path.write_text(queue.render(built, queue.format_for(path.name)))
                except OSError as exc:
                    raise InputError(f"cannot write queue: {exc.strerror}", file=str(path)) from exc
        return exit_code(rows, options.allow_unscanned)
    finally:
        store.close()


def exit_code(rows: list[Row], allow_unscanned: bool) -> int:
    """CONVENTIONS' codes over the batch's rows: what was not examined fails too."""
    if not rows:
        return 4
    if any(r.verdict == "fail" for r in rows):
        return 1
    if not allow_unscanned and any(r.verdict == "unscanned" for r in rows):
        return 1
    return 0


def _summary(rows: list[Row], items: int, judged: int, skipped: int, db: str) -> None:
    counts = {v: sum(1 for r in rows if r.verdict == v) for v in ("fail", "unscanned", "pass")}
    print(
        f"mphunter-gate: batch of {items} package(s): {judged} row(s) judged now, {skipped} "
        f"already in {db}; files: {counts['fail']} fail, {counts['unscanned']} unscanned, "
        f"{counts['pass']} pass",
        file=sys.stderr,
    )
