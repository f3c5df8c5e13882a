"""Fixtures for the batch tests: one Dask LocalCluster for the module's tests.

Two worker processes bound to 127.0.0.1, no dashboard, one thread each,
closed after the tests. The batch joins it by its scheduler address, the
path `--scheduler` takes on a real cluster. `allowed-failures` is 1, so a
worker killed twice by one task turns it into KilledWorker quickly.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import make_sdist
from tests.fixtures import BENIGN_SETUP, MALICIOUS_SETUP
from tests.policy.conftest import served  # noqa: F401 - the PEP 691 fake index

pytest.importorskip("distributed")


@pytest.fixture(scope="session")
def dask_cluster() -> Iterator[str]:
    """A LocalCluster of 2 worker processes; yields the scheduler's address."""
    import dask
    from distributed import LocalCluster

    config = {
        "distributed.scheduler.allowed-failures": 1,
        "distributed.worker.memory.pause": False,
    }
    with dask.config.set(config):
        cluster = LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
            memory_limit="2GiB",
            silence_logs=logging.ERROR,
        )
    try:
        yield str(cluster.scheduler_address)
    finally:
        cluster.close()


def plain_sdist(directory: Path, name: str, version: str = "0.1") -> Path:
    """A small benign sdist with one import-time module."""
    module = name.replace("-", "_")
    return make_sdist(directory, name, version, {f"{module}/__init__.py": f"VALUE = {len(name)}\n"})


@pytest.fixture
def packages(tmp_path: Path) -> list[Path]:
    """Six plain sdists, the benign fixture setup.py and the malicious one."""
    d = tmp_path / "pkgs"
    d.mkdir()
    made = [plain_sdist(d, f"plain-{i}") for i in range(6)]
    made.append(make_sdist(d, "tidy-widgets", "1.2.0", {"setup.py": BENIGN_SETUP}))
    made.append(make_sdist(d, "tidy-widgetz", "9.9.9", {"setup.py": MALICIOUS_SETUP}))
    return made
