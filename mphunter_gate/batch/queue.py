"""The audit queue: the K most suspicious packages of a batch, for people.

MPHunter handed its auditors a ranked list rather than verdicts, ranked by
`rank_mode`: `positive` (far from the benign HDBSCAN index: GLOSH
outlierness), `negative` (close to known malware) or `p&n` (both). The
queue ranks the batch's packages by their riskiest embedded script under the
chosen mode (the calibrated score breaks ties), and shows for each the
evidence the gate stored: files, call sites with lines, decoded payloads,
indicators, the nearest known sample. What could not be examined is listed
apart: it is not suspicious, but nobody has looked at it either.

Everything shown comes from packages, so it is attacker-controlled: Markdown
goes through the report's own escaping, HTML through `html.escape`.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mphunter_gate.batch.store import Row

RANK_COLUMNS = {"positive": "rank_positive", "negative": "rank_negative", "p&n": "rank_pn"}
#: Call sites, decoded payloads and indicators shown per package.
SHOWN = 8


@dataclass(frozen=True)
class Entry:
    """One package of the queue: its rank value under the mode and its files' rows."""

    name: str
    version: str
    rank: float | None
    score: float | None
    verdict: str
    rows: tuple[Row, ...]

    @property
    def top(self) -> Row:
        """The row whose evidence is shown: the file that ranks highest."""
        return self.rows[0]


@dataclass(frozen=True)
class Queue:
    rank_mode: str
    entries: tuple[Entry, ...]
    unscanned: tuple[Row, ...]
    packages: int  # packages in the batch


_SEVERITY = {"fail": 2, "unscanned": 1, "pass": 0}


def build(rows: Sequence[Row], top: int, rank_mode: str) -> Queue:
    """Rank the packages of `rows` (one row per file) under `rank_mode`."""
    column = RANK_COLUMNS[rank_mode]

    def value(r: Row) -> tuple[float, float]:
        rank = getattr(r, column)
        return (rank if rank is not None else -1.0, r.score if r.score is not None else -1.0)

    by_package: dict[tuple[str, str], list[Row]] = {}
    for r in rows:
        by_package.setdefault((r.name, r.version), []).append(r)
    entries = []
    for (name, version), group in by_package.items():
        ordered = sorted(group, key=value, reverse=True)
        scored = [r.score for r in group if r.score is not None]
        verdict = max((r.verdict for r in group), key=lambda v: _SEVERITY.get(v, 1))
        if verdict == "unscanned":
            continue
        entries.append(
            Entry(
                name,
                version,
                getattr(ordered[0], column),
                max(scored) if scored else None,
                verdict,
                tuple(ordered),
            )
        )
    entries.sort(key=lambda e: value(e.top), reverse=True)
    unscanned = tuple(r for r in rows if r.verdict == "unscanned")
    return Queue(rank_mode, tuple(entries[: max(top, 0)]), unscanned, len(by_package))


def _evidence(row: Row) -> dict[str, Any]:
    """What the queue shows of a row's stored evidence (the gate's JSON object)."""
    try:
        doc = json.loads(row.evidence)
    except ValueError:
        doc = {}
    files = [f for f in doc.get("files", []) if isinstance(f, dict)]
    files.sort(key=lambda f: -(f.get("score") or 0.0))
    calls = [
        {"file": c.get("file"), "line": c.get("line"), "api": c.get("api")}
        for f in files
        for c in f.get("evidence", [])
        if c.get("sensitive")
    ]
    decoded = [d for f in files for d in f.get("decoded", [])]
    indicators = [i for f in files for i in f.get("indicators", [])]
    worst = files[0] if files else {}
    return {
        "script": worst.get("path"),
        "stage": worst.get("stage"),
        "outlierness": worst.get("outlierness"),
        "nearest_malicious": worst.get("nearest_malicious"),
        "malicious_distance": worst.get("malicious_distance"),
        "calls": calls[:SHOWN],
        "decoded": decoded[:SHOWN],
        "indicators": indicators[:SHOWN],
    }


def document(queue: Queue) -> dict[str, Any]:
    """The queue as plain JSON-able data (the JSON output, and the other two's source)."""
    return {
        "rank_mode": queue.rank_mode,
        "packages": queue.packages,
        "queue": [
            {
                "position": n,
                "name": e.name,
                "version": e.version,
                "rank": e.rank,
                "score": e.score,
                "verdict": e.verdict,
                "reason": e.top.reason,
                "files": [
                    {
                        "filename": r.filename,
                        "sha256": r.sha256,
                        "verdict": r.verdict,
                        "score": r.score,
                    }
                    for r in e.rows
                ],
                "evidence": _evidence(e.top),
            }
            for n, e in enumerate(queue.entries, start=1)
        ],
        "unscanned": [
            {"name": r.name, "version": r.version, "filename": r.filename, "reason": r.reason}
            for r in queue.unscanned
        ],
    }


def _num(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, int | float) else "-"


def markdown(queue: Queue) -> str:
    from mphunter_gate.report.markdown import code, md

    doc = document(queue)
    out = [
        f"# Audit queue: top {len(doc['queue'])} of {doc['packages']} packages "
        f"(rank mode `{queue.rank_mode}`)",
        "",
    ]
    if doc["queue"]:
        out += ["| # | package | rank | score | verdict |", "|---:|---|---:|---:|---|"]
        out += [
            f"| {q['position']} | {md(q['name'])}=={md(q['version'])} | {_num(q['rank'])} "
            f"| {_num(q['score'])} | {q['verdict']} |"
            for q in doc["queue"]
        ]
    for q in doc["queue"]:
        ev = q["evidence"]
        out += ["", f"## {q['position']}. {md(q['name'])}=={md(q['version'])}", ""]
        out.append(f"- reason: {md(q['reason'])}")
        for f in q["files"]:
            out.append(
                f"- file {code(f['filename'])} sha256 {code(f['sha256'] or '-')}: "
                f"{f['verdict']}, score {_num(f['score'])}"
            )
        if ev["script"]:
            out.append(
                f"- riskiest script {code(ev['script'])} (stage {md(ev['stage'] or '-')}), "
                f"outlierness {_num(ev['outlierness'])}, nearest known sample "
                f"{code(ev['nearest_malicious'] or '-')} at {_num(ev['malicious_distance'])}"
            )
        out += [f"- call {code(c['api'])} at {code(c['file'])}:{c['line']}" for c in ev["calls"]]
        out += [
            f"- decoded ({md(d.get('method'))}) at {code(d.get('file'))}:{d.get('line')}: "
            f"{code(d.get('preview'))}"
            for d in ev["decoded"]
        ]
        out += [
            f"- indicator {md(i.get('name'))} at {code(i.get('file'))}:{i.get('line')}: "
            f"{code(i.get('excerpt'))}"
            for i in ev["indicators"]
        ]
    if doc["unscanned"]:
        out += ["", f"## Not examined ({len(doc['unscanned'])})", ""]
        out += [
            f"- {md(u['name'])}=={md(u['version'])} {code(u['filename'])}: {md(u['reason'])}"
            for u in doc["unscanned"]
        ]
    return "\n".join(out) + "\n"


def _h(value: object) -> str:
    return html.escape(str(value if value is not None else "-"), quote=True)


def html_page(queue: Queue) -> str:
    doc = document(queue)
    parts = [
        "<!doctype html>",
        '<html><head><meta charset="utf-8"><title>mphunter-gate audit queue</title></head><body>',
        f"<h1>Audit queue: top {len(doc['queue'])} of {doc['packages']} packages "
        f"(rank mode {_h(queue.rank_mode)})</h1>",
    ]
    for q in doc["queue"]:
        ev = q["evidence"]
        parts.append(f"<h2>{q['position']}. {_h(q['name'])}=={_h(q['version'])}</h2>")
        parts.append(
            f"<p>rank {_num(q['rank'])}, score {_num(q['score'])}, {_h(q['verdict'])}: "
            f"{_h(q['reason'])}</p><ul>"
        )
        parts += [
            f"<li>file <code>{_h(f['filename'])}</code> sha256 <code>{_h(f['sha256'])}</code>: "
            f"{_h(f['verdict'])}, score {_num(f['score'])}</li>"
            for f in q["files"]
        ]
        if ev["script"]:
            parts.append(
                f"<li>riskiest script <code>{_h(ev['script'])}</code>, nearest known sample "
                f"<code>{_h(ev['nearest_malicious'])}</code></li>"
            )
        parts += [
            f"<li>call <code>{_h(c['api'])}</code> at <code>{_h(c['file'])}:{_h(c['line'])}"
            "</code></li>"
            for c in ev["calls"]
        ]
        parts += [
            f"<li>decoded at <code>{_h(d.get('file'))}:{_h(d.get('line'))}</code>: "
            f"<code>{_h(d.get('preview'))}</code></li>"
            for d in ev["decoded"]
        ]
        parts += [
            f"<li>indicator {_h(i.get('name'))} at <code>{_h(i.get('file'))}:"
            f"{_h(i.get('line'))}</code>: <code>{_h(i.get('excerpt'))}</code></li>"
            for i in ev["indicators"]
        ]
        parts.append("</ul>")
    if doc["unscanned"]:
        parts.append(f"<h2>Not examined ({len(doc['unscanned'])})</h2><ul>")
        parts += [
            f"<li>{_h(u['name'])}=={_h(u['version'])} <code>{_h(u['filename'])}</code>: "
            f"{_h(u['reason'])}</li>"
            for u in doc["unscanned"]
        ]
        parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def render(queue: Queue, fmt: str) -> str:
    """`markdown`, `json` or `html`."""
    if fmt == "json":
        return json.dumps(document(queue), indent=2) + "\n"
    if fmt == "html":
        return html_page(queue)
    return markdown(queue)


def format_for(filename: str) -> str:
    """The output format a queue file's name asks for (`.json`, `.html`, else markdown)."""
    lowered = filename.lower()
    if lowered.endswith(".json"):
        return "json"
    if lowered.endswith((".html", ".htm")):
        return "html"
    return "markdown"
