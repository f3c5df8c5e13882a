"""Files byte-identical to files of the benign corpus: known, so not analysed again.

Most files a project installs are byte-identical to files of a release the
benign corpus holds: unchanged across a project's releases, and shared by
every wheel and sdist of one. Analysing them again costs most of a cold
`check` and can only repeat what the corpus already says. So the models ship
the keys of every file the corpus stores, and the gate skips (reports as
`known`) a file whose key is among them.

This changes no verdict that rests on the file's behaviour: the same bytes
of the same kind at the same stage get the same score at any path. It changes two
others, both on purpose: a benign file that scores above the threshold (a
false positive of the models) and a benign file too large to analyse within
the budget (generated API clients) are known, not failed or unscanned.
A typosquat that copies a popular package's files gains nothing: its copies
were never evidence, and the file it adds is not in the set.

A key is the first 16 bytes of sha256(kind, stage, text): 128 bits, so
finding a payload whose key collides with one of the set's million keys would
take about 2^108 hashes. The kind is in the key because the same text runs
differently as a setup.py (as `__main__`) than as a module, and the stage
because the same module does more harm when it runs earlier: a typosquat
that copies a benign package's download helper and has its setup.py import
and call it puts that helper at `install`, where the corpus never saw it, so
it is analysed there (its score has the stage as an input).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mphunter_gate.types import Script, ScriptKind, Stage

if TYPE_CHECKING:
    import numpy as np

#: The artifact's file name in a models directory.
KNOWN_FILES = "known_benign.npy"
KEY_BYTES = 16


def file_key(text: str, kind: ScriptKind, stage: Stage | None) -> bytes:
    """The set's key for a file of `kind` holding `text` that runs at `stage`."""
    h = hashlib.sha256(f"{kind.value}\0{stage.value if stage else ''}\0".encode())
    h.update(text.encode("utf-8", "surrogatepass"))
    return h.digest()[:KEY_BYTES]


@dataclass(frozen=True)
class KnownFiles:
    """A sorted array of keys, searched by bisection (no Python set of a million
    objects to build at every start)."""

    keys: np.ndarray  # dtype S16, sorted, unique

    @classmethod
    def build(cls, scripts: Iterable[Script]) -> KnownFiles:
        return cls.from_keys(file_key(s.text, s.kind, s.stage) for s in scripts)

    @classmethod
    def from_keys(cls, keys: Iterable[bytes]) -> KnownFiles:
        import numpy as np

        return cls(np.array(sorted(set(keys)), dtype=f"S{KEY_BYTES}"))

    def __len__(self) -> int:
        return len(self.keys)

    def __contains__(self, key: object) -> bool:
        import numpy as np

        if not isinstance(key, bytes) or len(self.keys) == 0:
            return False
        # Compared as numpy sees S16 (trailing NULs are padding) on both sides: every
        # key is 16 bytes, so that is exact.
        probe = np.array([key], dtype=self.keys.dtype)
        i = int(np.searchsorted(self.keys, probe)[0])
        return i < len(self.keys) and bool(self.keys[i : i + 1] == probe)

    def knows(self, script: Script) -> bool:
        return file_key(script.text, script.kind, script.stage) in self

    def save(self, path: Path) -> None:
        import numpy as np

        with path.open("wb") as fh:
            np.save(fh, self.keys, allow_pickle=False)

    @classmethod
    def load(cls, path: Path) -> KnownFiles:
        """Only after the manifest's sha256 matched; no pickle is ever read."""
        import numpy as np

        keys = np.load(path, allow_pickle=False)
        if keys.dtype != np.dtype(f"S{KEY_BYTES}") or keys.ndim != 1:
            raise ValueError(f"{path}: not a known-files array")
        return cls(keys)
