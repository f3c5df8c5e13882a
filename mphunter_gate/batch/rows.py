"""One judged file -> one stored `Row`: its verdict, the seed's rank values, evidence.

The evidence is the gate's own JSON report object for the file
(`report.json.result_of`), so an auditor reading the database sees what
`check --format json` would show, trimmed to the files whose call sites the
report lists (the riskiest and the notable: a package can hold thousands of
plain files, and the backfill stores 700k packages).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from mphunter_gate.batch.store import Row
from mphunter_gate.batch.work import WorkItem
from mphunter_gate.types import Finding, ScriptScore


def ranks(scores: tuple[ScriptScore, ...]) -> tuple[float | None, float | None, float | None]:
    """The file's riskiest embedded script under each `rank_mode` (positive, negative, p&n).

    The numbers are MPHunter's own (`model/rscore.py`): positive is the GLOSH
    outlierness against the benign HDBSCAN index, negative how close the
    script leans to its nearest known-malicious one, p&n their mean. A script
    that could not be embedded has no placement and does not rank.
    """
    from mphunter_gate.model.index import Placement
    from mphunter_gate.model.rscore import negative, positive, rscore

    placed = [
        Placement(s.outlierness, s.benign_distance, s.malicious_distance, s.nearest_malicious)
        for s in scores
        if s.rscore is not None
    ]
    if not placed:
        return None, None, None
    return (
        max(positive(p) for p in placed),
        max(negative(p) for p in placed),
        max(rscore(p, "p&n") for p in placed),
    )


def evidence_of(finding: Finding) -> str:
    """The JSON evidence stored with a row (see the module docstring)."""
    from mphunter_gate.report.json import result_of

    doc = result_of(finding)
    doc["files"] = [f for f in doc["files"] if not f["evidence_omitted"]]
    return json.dumps(doc, sort_keys=True)


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def row_of(finding: Finding, key: str, filename: str, model_version: str) -> Row:
    """The row of one judged file (`finding` holds that file's verdict alone)."""
    pos, neg, pn = ranks(finding.scores)
    return Row(
        key=key,
        model_version=model_version,
        name=finding.name,
        version=finding.version,
        filename=filename,
        sha256=finding.sha256,
        verdict=finding.verdict.value,
        score=finding.score,
        reason=finding.reason,
        rank_positive=pos,
        rank_negative=neg,
        rank_pn=pn,
        evidence=evidence_of(finding),
        judged_at=now(),
    )


def unscanned_row(
    key: str, name: str, version: str, filename: str, sha256: str | None, reason: str, model: str
) -> Row:
    """The row of something not examined: it fails the batch unless allowed."""
    doc = {"name": name, "version": version, "verdict": "unscanned", "reason": reason}
    return Row(
        key=key,
        model_version=model,
        name=name,
        version=version,
        filename=filename,
        sha256=sha256,
        verdict="unscanned",
        score=None,
        reason=reason,
        rank_positive=None,
        rank_negative=None,
        rank_pn=None,
        evidence=json.dumps(doc, sort_keys=True),
        judged_at=now(),
    )


def item_unscanned(item: WorkItem, reason: str, model: str) -> Row:
    """The row of an item nothing of which was examined (a stall, a dead worker):
    keyed by the item itself, named as far as its path or pin tells."""
    if item.kind == "project":
        return unscanned_row(
            item.key, item.target, item.version or "", item.target, None, reason, model
        )
    from mphunter_gate.gate import _name_version  # the gate's one reading of a filename

    path = Path(item.target)
    name, version = _name_version(path)
    return unscanned_row(item.key, name, version, path.name, None, reason, model)
