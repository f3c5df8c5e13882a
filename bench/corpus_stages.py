"""Whole-package verdicts on the held-out malware families, split by date and by stage.

Usage: python bench/corpus_stages.py [--cut 2024-07-01] [--mode all_files|setup_only]

The corpus (`../shared/corpus/malregistry-dev`) is read as text from its archive in
memory, never unpacked or run. Only samples of the families the trainer held out for
validation are judged (the seeded family split recorded in the manifest: seed and
`validation_fraction`), so no judged family was fitted by the bundled models. Each
sample is selected, analysed and judged exactly as `scan` does (`select.select`,
`Judge.analyse`, `Judge.verdict`). Prints package recall before and after `--cut`
(samples' `added` date: the later part is the nearest thing here to next month's
uploads, though its families were held out by hash, not by date), how many of the
detected packages were decided by a file at each stage, and how many are unscanned.
"""

from __future__ import annotations

import argparse
import json
import sys
import tarfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mphunter_gate.errors import ArchiveError  # noqa: E402
from mphunter_gate.fetch.archive import MemoryTree  # noqa: E402
from mphunter_gate.gate import GateOptions, Judge  # noqa: E402
from mphunter_gate.model.split import _unit  # noqa: E402
from mphunter_gate.select import select  # noqa: E402
from mphunter_gate.types import Finding, ScriptSet, Verdict  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cut", default="2024-07-01")
    ap.add_argument("--mode", default="all_files")
    args = ap.parse_args()
    manifest = json.loads((ROOT / "models" / "manifest.json").read_text())
    seed, fraction = manifest["params"]["seed"], manifest["params"]["validation_fraction"]
    meta = {}
    for line in (CORPUS / "malregistry-dev.jsonl").read_text().splitlines():
        d = json.loads(line)
        if d.get("family") and _unit(d["family"], seed) < fraction:
            meta[d["sample"]] = d
    trees: dict[str, dict[str, bytes]] = {}
    with tarfile.open(CORPUS / "malregistry-dev.tar.xz", "r:xz") as tf:
        for member in tf:
            parts = member.name.split("/", 2)
            if member.isfile() and len(parts) == 3 and parts[1] in meta:
                fh = tf.extractfile(member)
                trees.setdefault(parts[1], {})[parts[2]] = fh.read() if fh else b""
    judge = Judge(GateOptions(file_search_mode=args.mode))
    rows = []
    for sample, files in sorted(trees.items()):
        late = meta[sample]["added"][:10] >= args.cut
        base = Finding(sample, "", sample, Verdict.PASS, None, "")
        try:
            scripts = select(MemoryTree(files), args.mode)
            judged = judge.analyse(ScriptSet(sample, "", sample, None, scripts))
            found = judge.verdict(judged, base)
        except ArchiveError as exc:
            found = Finding(sample, "", sample, Verdict.UNSCANNED, None, str(exc))
        stage = None
        if found.verdict is Verdict.FAIL and found.scores:
            top = max(found.scores, key=lambda s: s.score)
            stage = next((a.stage.value for a in found.analyses if a.path == top.path), None)
        rows.append((late, meta[sample]["family"], found.verdict, stage))
    for label, part in (("before cut", False), ("after cut", True)):
        sel = [r for r in rows if r[0] is part]
        fams = {r[1] for r in sel}
        caught = {r[1] for r in sel if r[2] is Verdict.FAIL}
        n_fail = sum(r[2] is Verdict.FAIL for r in sel)
        n_uns = sum(r[2] is Verdict.UNSCANNED for r in sel)
        print(
            f"{label}: {len(sel)} packages, {len(fams)} families; fail {n_fail} "
            f"({n_fail / max(len(sel), 1):.1%}), unscanned {n_uns}, pass "
            f"{len(sel) - n_fail - n_uns}; families with a failing package "
            f"{len(caught)}/{len(fams)}; deciding stage "
            f"{dict(Counter(r[3] for r in sel if r[2] is Verdict.FAIL))}"
        )


if __name__ == "__main__":
    main()
