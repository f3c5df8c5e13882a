"""`mphunter-gate batch`: judge a registry's new uploads at scale.

MPHunter's own use was a security team scanning every new upload in batches
and handing auditors a ranked list. This stage does that with the gate's
own engine (`gate.Judge`), spread over Dask distributed:

- `work.py`   what to judge: local paths, a names file, an index's change feed;
- `store.py`  where results go: one SQLite row per judged file (WAL mode), keyed
  by sha256 and model version so a rerun skips what is done;
- `worker.py` what runs on a Dask worker: the models loaded once per worker
  process, a deadline per task, one row per judged file;
- `run.py`    the driver: a LocalCluster or an existing scheduler, tasks of a few
  packages, bounded retries, then `unscanned` with the reason;
- `queue.py`  the audit queue: the K most suspicious packages by `rank_mode`,
  as markdown, JSON or HTML, each with its evidence.

Only `batch` imports dask (the `batch` extra); `check` and `scan` never do.

PostgreSQL instead of SQLite: the driver talks to the store only through the
`Store` protocol of `store.py` (`done_keys`, `keys_of`, `add`, `rows`,
`delete_unscanned`, `get_state`, `set_state`, `close`). Pointing it at
PostgreSQL is one new class that implements those methods with psycopg
(the SQL is plain: `INSERT ... ON CONFLICT (key, model_version) DO NOTHING`
instead of `INSERT OR IGNORE`, and no WAL pragma) plus one line in
`store.open_store` choosing it for a `postgresql://` `--db` URL. Nothing
else changes; it is not built yet.
"""
