"""The audit queue: rank modes, what was not examined, inert output."""

from __future__ import annotations

import json
from dataclasses import replace

from mphunter_gate.batch import queue
from mphunter_gate.batch.rows import unscanned_row


def _row(name: str, pos: float, neg: float, score: float, verdict: str = "pass"):
    evidence = {
        "files": [
            {
                "path": f"{name}/setup.py",
                "score": score,
                "stage": "install",
                "nearest_malicious": "sample-1/setup.py",
                "evidence": [
                    {"api": "os.system", "file": "setup.py", "line": 3, "sensitive": True}
                ],
                "decoded": [{"file": "setup.py", "line": 2, "method": "base64", "preview": "x"}],
                "indicators": [],
            }
        ]
    }
    base = unscanned_row(name, name, "1.0", f"{name}-1.0.tar.gz", name, "r", "m")
    return replace(
        base,
        verdict=verdict,
        score=score,
        rank_positive=pos,
        rank_negative=neg,
        rank_pn=(pos + neg) / 2,
        evidence=json.dumps(evidence),
    )


ROWS = [
    _row("far", pos=0.8, neg=0.2, score=0.5),
    _row("near", pos=0.1, neg=0.95, score=0.6),
    _row("both", pos=0.7, neg=0.7, score=0.99, verdict="fail"),
    unscanned_row("item:path:x", "lost", "", "lost.tar.gz", None, "deadline", "m"),
]


def test_rank_modes_order_the_queue() -> None:
    order = {m: [e.name for e in queue.build(ROWS, 3, m).entries] for m in queue.RANK_COLUMNS}
    assert order == {
        "positive": ["far", "both", "near"],
        "negative": ["near", "both", "far"],
        "p&n": ["both", "near", "far"],
    }


def test_unscanned_listed_apart_with_reason() -> None:
    built = queue.build(ROWS, 1, "p&n")
    assert [e.name for e in built.entries] == ["both"]
    doc = queue.document(built)
    assert doc["unscanned"] == [
        {"name": "lost", "version": "", "filename": "lost.tar.gz", "reason": "deadline"}
    ]
    assert doc["queue"][0]["evidence"]["calls"] == [
        {"file": "setup.py", "line": 3, "api": "os.system"}
    ]
    assert doc["queue"][0]["evidence"]["nearest_malicious"] == "sample-1/setup.py"


def test_outputs_keep_package_text_inert() -> None:
    hostile = replace(ROWS[2], name="<script>alert(1)</script>|x")
    built = queue.build([hostile], 5, "p&n")
    page = queue.render(built, "html")
    assert "<script>" not in page and "&lt;script&gt;" in page
    md = queue.render(built, "markdown")
    assert "\\<script\\>" in md and "\\|x" in md
    assert json.loads(queue.render(built, "json"))["queue"][0]["name"] == hostile.name
    assert queue.format_for("q.HTML") == "html" and queue.format_for("q.md") == "markdown"
