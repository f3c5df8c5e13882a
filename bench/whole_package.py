"""Cold `check` with whole-package reading against an earlier commit, interleaved.

Usage: python bench/whole_package.py --old-tree DIR [--runs N] [--new-arg=OPT] [FILES...]

`DIR` is a checkout of the commit to compare with (e.g. `git worktree add
/tmp/old c938205`); both versions run with this interpreter, each from its own
tree (`python -m mphunter_gate.cli` with the tree as the working directory),
each cold (an empty `MPHUNTER_GATE_CACHE`), old and new alternating so that
the machine's drift hits both alike. Prints, per input, the medians and the
new/old ratios of wall time and peak memory, and what each version judged:
files analysed, packages failed and unscanned (a rise there is a false
positive or a fail-closed row to read, not a speed figure).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = sorted((ROOT.parent / "shared" / "bench").glob("*.txt"))


def run_once(tree: Path, req: Path, extra: tuple[str, ...] = ()) -> dict[str, object]:
    """One cold check from `tree`: seconds, peak MiB, exit code, and the report's counts."""
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryFile("w+") as out:
        env = dict(os.environ, MPHUNTER_GATE_CACHE=cache)
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mphunter_gate.cli",
                "check",
                str(req),
                "--format",
                "json",
                *extra,
            ],
            stdout=out,
            stderr=subprocess.DEVNULL,
            cwd=tree,
            env=env,
        )
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own peak RSS
        seconds = time.perf_counter() - t0
        out.seek(0)
        text = out.read()
    try:
        doc = json.loads(text)
    except ValueError:
        doc = {"results": []}
    results = doc.get("results", [])
    files = 0
    for r in results:
        arts = r.get("artifacts")
        files += sum(len(a["files"]) for a in arts) if arts else len(r.get("files", []))
    return {
        "seconds": seconds,
        "mib": usage.ru_maxrss / 1024,
        "exit": os.waitstatus_to_exitcode(status),
        "packages": len(results),
        "files": files,
        "fail": [r["name"] for r in results if r["verdict"] == "fail"],
        "unscanned": [r["name"] for r in results if r["verdict"] == "unscanned"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("files", nargs="*", type=Path, default=DEFAULT)
    ap.add_argument("--old-tree", type=Path, required=True)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--json", type=Path, help="also write the raw runs here")
    ap.add_argument(
        "--new-arg",
        action="append",
        default=[],
        help="an option for the new tree's check only (e.g. --new-arg=--analyse-known)",
    )
    args = ap.parse_args()
    raw: dict[str, dict[str, list[dict[str, object]]]] = {}
    for req in args.files:
        runs: dict[str, list[dict[str, object]]] = {"old": [], "new": []}
        for _ in range(args.runs):
            runs["old"].append(run_once(args.old_tree.resolve(), req.resolve()))
            runs["new"].append(run_once(ROOT, req.resolve(), tuple(args.new_arg)))
        raw[req.name] = runs
    print(
        "| input | pkgs | old s | new s | time new/old | old MiB | new MiB | mem new/old "
        "| files old -> new | new fail | new unscanned |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|---|---|")
    for name, runs in raw.items():
        med = {
            v: {k: statistics.median(float(r[k]) for r in rs) for k in ("seconds", "mib")}  # type: ignore[arg-type]
            for v, rs in runs.items()
        }
        new = runs["new"][-1]
        print(
            f"| {name} | {new['packages']} | {med['old']['seconds']:.1f} | "
            f"{med['new']['seconds']:.1f} | {med['new']['seconds'] / med['old']['seconds']:.2f}x | "
            f"{med['old']['mib']:.0f} | {med['new']['mib']:.0f} | "
            f"{med['new']['mib'] / med['old']['mib']:.2f}x | "
            f"{runs['old'][-1]['files']} -> {new['files']} | "
            f"{', '.join(new['fail']) or '-'} | {', '.join(new['unscanned']) or '-'} |"  # type: ignore[arg-type]
        )
    if args.json:
        args.json.write_text(json.dumps(raw, indent=2))


if __name__ == "__main__":
    main()
