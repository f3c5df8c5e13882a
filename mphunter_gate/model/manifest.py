"""`manifest.json`: what the models are, where they came from, and the
sha256 of every artifact, checked before anything is unpickled.

Model files are pickles (gensim, hdbscan), and unpickling runs code, so a
tampered or half-copied models directory must be refused before load,
not after. The model version is derived from the artifact hashes: two
trainings that produce the same bytes have the same version, and any
change to the bytes changes it (verdict caches key on it).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mphunter_gate.errors import ModelError

MANIFEST_NAME = "manifest.json"
FORMAT_VERSION = 1


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def version_from_hashes(artifacts: dict[str, str]) -> str:
    joined = "\n".join(f"{name}:{sha}" for name, sha in sorted(artifacts.items()))
    return "mph-" + hashlib.sha256(joined.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Manifest:
    """The parsed manifest. `artifacts` maps file name -> sha256."""

    model_version: str
    threshold: float
    artifacts: dict[str, str]
    params: dict[str, Any]
    provenance: dict[str, Any] = field(default_factory=dict)
    validation: dict[str, Any] = field(default_factory=dict)
    scoring: dict[str, Any] = field(default_factory=dict)
    #: The known-benign file set (`known.py`): file, sha256, counts, provenance.
    known: dict[str, Any] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    def write(self, directory: Path) -> Path:
        path = directory / MANIFEST_NAME
        path.write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n", "utf-8")
        return path

    @classmethod
    def read(cls, directory: Path) -> Manifest:
        path = directory / MANIFEST_NAME
        try:
            data = json.loads(path.read_text("utf-8"))
        except FileNotFoundError as exc:
            raise ModelError(f"{path}: no model manifest") from exc
        except (OSError, ValueError) as exc:
            raise ModelError(f"{path}: unreadable model manifest: {exc}") from exc
        try:
            manifest = cls(
                model_version=str(data["model_version"]),
                threshold=float(data["threshold"]),
                artifacts={str(k): str(v) for k, v in data["artifacts"].items()},
                params=dict(data["params"]),
                provenance=dict(data.get("provenance", {})),
                validation=dict(data.get("validation", {})),
                scoring=dict(data.get("scoring", {})),
                known=dict(data.get("known", {})),
                format_version=int(data.get("format_version", FORMAT_VERSION)),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ModelError(f"{path}: malformed model manifest: {exc}") from exc
        if not 0.0 <= manifest.threshold <= 1.0:  # also refuses NaN
            raise ModelError(f"{path}: threshold {manifest.threshold!r} is not in [0, 1]")
        if manifest.format_version != FORMAT_VERSION:
            raise ModelError(f"{path}: unsupported manifest format {manifest.format_version}")
        return manifest

    def verify(self, directory: Path) -> None:
        """Raise ModelError unless every artifact exists and matches its sha256."""
        for name, expected in sorted(self.artifacts.items()):
            if Path(name).name != name:
                raise ModelError(f"{directory / MANIFEST_NAME}: artifact name {name!r} is a path")
            path = directory / name
            if not path.is_file():
                raise ModelError(f"{path}: model artifact missing")
            actual = sha256_file(path)
            if actual != expected:
                raise ModelError(
                    f"{path}: sha256 {actual} does not match the manifest ({expected})"
                )
