"""The collector pause: nested uses restore the switch, and an analysis leaves no cycles."""

from __future__ import annotations

import gc

from mphunter_gate.analysis import analyse
from mphunter_gate.analysis.gcpause import paused
from mphunter_gate.types import Script, ScriptKind


def test_nested_pauses_restore_the_previous_state() -> None:
    assert gc.isenabled()
    with paused():
        with paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with paused():
            pass
        assert not gc.isenabled()  # it was off before: it stays off
    finally:
        gc.enable()


def test_an_analysis_is_freed_by_reference_counting() -> None:
    text = (
        "import base64, os\n"
        "class C:\n    def run(self):\n        os.system(getattr(os, 'name'))\n"
        "x = [getattr(os, n) for n in ['a']]\n"
        "exec(base64.b64decode('aW1wb3J0IG9zOyBvcy5zeXN0ZW0oJ2lkJyk='))\n"
        "setup(cmdclass={'install': C})\n"
    )
    gc.collect()
    gc.disable()
    try:
        analyse(Script("setup.py", ScriptKind.SETUP, text))
        assert gc.collect() == 0
    finally:
        gc.enable()
