"""Saving gensim models so that the same training gives the same bytes.

The manifest's sha256 and the model version derive from the artifact
bytes, so a retraining with the same data and seed must write the same
bytes. gensim's own `save` does not: it stores "lifecycle events"
(timestamps, platform, file names) and the wall-clock
`total_train_time`, and FastText records the attributes it strips in
`set` iteration order, which follows PYTHONHASHSEED. We drop the events
and the timer, put attributes in sorted order, and pickle the whole
object ourselves (nothing stripped, so nothing to rebuild on load).

Loading is unpickling, which runs code: callers load only after the
manifest's sha256 check.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

PROTOCOL = 4


def save_reproducibly(model: Any, path: Path) -> None:
    for obj in (model, getattr(model, "wv", None), getattr(model, "dv", None)):
        if obj is not None:
            obj.lifecycle_events = None
            obj.__dict__ = dict(sorted(obj.__dict__.items()))
    if hasattr(model, "total_train_time"):
        model.total_train_time = 0.0
    with path.open("wb") as fh:
        pickle.dump(model, fh, protocol=PROTOCOL)


def load_verified(path: Path, expected_type: type) -> Any:
    """Unpickle a model whose sha256 the caller has already checked."""
    with path.open("rb") as fh:
        model = pickle.load(fh)
    if not isinstance(model, expected_type):
        raise ValueError(f"{path}: expected a {expected_type.__name__}, got {type(model).__name__}")
    return model
