"""Benign clones in the malicious corpus: exact and near copies, and what keeps a copy malicious."""

from __future__ import annotations

from mphunter_gate.model import BENIGN, MALICIOUS, TrainingDoc
from mphunter_gate.model.clones import drop_benign_clones
from mphunter_gate.types import Script, ScriptKind

#: A long benign module: 60 ordinary calls, a temp-folder lookup and one os.system.
LIBRARY = (*(f"lib.helper{i}" for i in range(60)), "tempfile.gettempdir", "os.system")
LIBRARY_TEXT = "import tempfile\nd = tempfile.gettempdir()\n"


def _doc(doc_id: str, tokens: tuple[str, ...], label: str, text: str = "x = 1\n") -> TrainingDoc:
    family = "pkg:lib" if label == BENIGN else doc_id.split("/")[0]
    return TrainingDoc(
        doc_id, tokens, family, label, script=Script(doc_id, ScriptKind.MODULE, text)
    )


def _kept(*malicious: TrainingDoc) -> list[str]:
    benign = [_doc("lib-2.0/lib/utils.py", LIBRARY, BENIGN, LIBRARY_TEXT)]
    kept, dropped = drop_benign_clones(list(malicious), benign)
    assert dropped == len(malicious) - len(kept)
    return [d.id for d in kept]


def test_exact_and_drifted_copies_are_left_out() -> None:
    exact = _doc("squat1/utils.py", LIBRARY, MALICIOUS, LIBRARY_TEXT)
    # another release: one helper renamed, one dropped (similarity ~0.98)
    drifted = _doc(
        "squat2/utils.py",
        ("lib.renamed", *LIBRARY[1:30], *LIBRARY[31:]),
        MALICIOUS,
        LIBRARY_TEXT,
    )
    assert _kept(exact, drifted) == []


def test_a_copy_that_adds_a_sensitive_call_or_an_indicator_stays_malicious() -> None:
    extra_call = _doc("evil1/utils.py", (*LIBRARY, "os.system"), MALICIOUS, LIBRARY_TEXT)
    decoder = _doc("evil2/utils.py", (*LIBRARY, "base64.b64decode"), MALICIOUS, LIBRARY_TEXT)
    loud = _doc(
        "evil3/utils.py",
        LIBRARY,
        MALICIOUS,
        LIBRARY_TEXT + "os.system('powershell -w hidden -c iex')\n",
    )
    assert _kept(extra_call, decoder, loud) == [
        "evil1/utils.py",
        "evil2/utils.py",
        "evil3/utils.py",
    ]


def test_scripts_unlike_any_benign_one_are_kept() -> None:
    half = _doc("other/utils.py", LIBRARY[:30], MALICIOUS)
    payload = _doc("evil/setup.py", ("os.system", "base64.b64decode"), MALICIOUS)
    empty = _doc("empty/setup.py", (), MALICIOUS)
    assert _kept(half, payload, empty) == ["other/utils.py", "evil/setup.py", "empty/setup.py"]
