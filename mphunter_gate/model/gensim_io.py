"""Saving gensim models so that the same training gives the same bytes.

gensim appends a "lifecycle event" (timestamp, platform, file name) to a
model on creation, training and save, and pickles it with the model. The
manifest's sha256 and the model version derive from the bytes, so those
events, and the wall-clock `total_train_time`, are dropped before saving;
nothing reads them. gensim also deletes and restores attributes in `set`
order while saving, so the attribute order (and the pickle bytes) would
follow PYTHONHASHSEED; attributes are put in sorted order first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def save_reproducibly(model: Any, path: Path) -> None:
    for obj in (model, getattr(model, "wv", None), getattr(model, "dv", None)):
        if obj is not None:
            obj.lifecycle_events = None
            obj.__dict__ = dict(sorted(obj.__dict__.items()))
    if hasattr(model, "total_train_time"):
        model.total_train_time = 0.0
    model.save(str(path), separately=[])
