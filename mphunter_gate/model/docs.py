"""The unit the models learn from: one install-time script as a token list.

Training and evaluation both work on `TrainingDoc`s, so the loaders (see
`data.py`) are the only place that knows where scripts come from, and the
model code never touches archives or the corpus on disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mphunter_gate.types import Script

BENIGN = "benign"
MALICIOUS = "malicious"


@dataclass(frozen=True)
class TrainingDoc:
    """One script, already turned into the model's token list.

    `family` groups documents that must stay on the same side of a split: a
    malware campaign for malicious scripts, the package name for benign
    ones (so that two files of one package never end up one in the index
    and one in the calibration set). `script` keeps the text so training
    can re-analyse it once APIEM exists (the branch order depends on it);
    it takes no part in equality.
    """

    id: str
    tokens: tuple[str, ...]
    family: str | None
    label: str  # BENIGN | MALICIOUS
    script: Script | None = field(default=None, repr=False, compare=False)
    # The behaviour vector (behaviour.py layout), filled in by training once
    # the script has been analysed; empty until then.
    behaviour: tuple[float, ...] = field(default=(), repr=False, compare=False)
    # When the sample was first seen (ISO 8601, the corpus's `added`; for a text
    # several samples share, the earliest): the key of the temporal split.
    added: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.label not in (BENIGN, MALICIOUS):
            raise ValueError(f"label must be {BENIGN!r} or {MALICIOUS!r}, not {self.label!r}")

    @property
    def group(self) -> str:
        """The split key: the family, or the id itself when there is none."""
        return self.family if self.family else f"id:{self.id}"

    @property
    def package(self) -> str:
        """The package the script belongs to (the gate's unit of verdict):
        the first component of the id (`sample/...` or `name-version/...`)."""
        return self.id.replace("\\", "/").split("/", 1)[0]

    @property
    def file_kind(self) -> str:
        """`setup.py`, `__init__.py` or `other`: how evaluation breaks figures down."""
        name = self.script.path if self.script is not None else self.id
        base = name.replace("\\", "/").rsplit("/", 1)[-1]
        if base in ("setup.py", "__init__.py"):
            return base
        return "other"
