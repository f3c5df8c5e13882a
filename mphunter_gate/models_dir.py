"""Where the bundled models are, outside the model package: finding them (a warm
`check` reads only the manifest) must import none of the model code."""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)


def default_models_dir() -> Path:
    """The bundled models: the installed `mphunter_gate._models` package
    data if present, else the repository's top-level `models/` folder."""
    try:
        from importlib.resources import files

        bundled = files("mphunter_gate._models")
        candidate = Path(str(bundled))
        if (candidate / "manifest.json").is_file():
            return candidate
    except (ModuleNotFoundError, TypeError, ValueError):
        log.debug("no installed mphunter_gate._models package; using the repository's models/")
    return Path(__file__).resolve().parents[1] / "models"
