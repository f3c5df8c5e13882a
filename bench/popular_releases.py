"""False positives on the last release series of the most downloaded PyPI projects.

Usage: python bench/popular_releases.py [--top 1000] [--series 3] [--models DIR]
           [--batch 50] [--jobs 1] [--cache-dir /tmp/mphunter-popular]
           [--python-version X.Y] [--platform TAG] [--analyse-known] [--timeout 3600]
           [--out bench/results/popular_releases.md]

Why: the corpus benchmarks measure the false-positive rate on releases the models'
split held out, mostly the long tail. What users install most is the popular
projects, in the versions they pin: not only the newest release but the last few
release series. This judges, whole package, the newest final release of each of the
last `--series` series (major.minor of the PEP 440 version; pre-releases, dev
releases and fully yanked releases left out) of the `--top` most downloaded projects
(ranks from /work/.library/env/packages/pypi.tsv). Zero failures is the target; the
report lists every failure with the data to analyse it (file, stage, score,
behaviours, reason).

How: each project's file list comes from the gate's own index client
(`mphunter_gate.fetch.index.Index`, PyPI's simple JSON API, cached). The releases are
written, one release series at a time and `--batch` per file, into `pylock.toml` files
of bare `name`/`version` entries and judged by `mphunter-gate check FILE --format
json`, a fresh process per batch, exactly as a user's check judges a lock file: the
installer's file for this machine (or `--python-version`/`--platform`) and the sdist,
every file read, the known-benign set on (files byte-identical to the benign corpus
are `known`, not scored; `--analyse-known` scores them too). A lock file is read as
already resolved, so the pins' dependencies are not judged; a release pip would build
from its sdist brings its build requirements, which `check` judges too: they are
reported apart ("build dependencies"). A release with no file pip could install on the
target is "skipped (no artifact for this target)" and not sent to `check`; a row the
gate could not scan counts as unscanned, apart from failures. A batch whose process
crashes is re-run one release per process. The behaviours of each deciding file (not
in the JSON report) are recomputed in this process with the gate's `Judge` on the same
cached bytes, for failures and the 20 highest-scoring passes.

Nothing downloaded is executed, imported, built or installed: the gate reads
archives as text. Batches and their reports are kept under `--cache-dir` (default
under /tmp) keyed by their content, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mphunter_gate.errors import GateError  # noqa: E402
from mphunter_gate.fetch.index import Index  # noqa: E402
from mphunter_gate.model.calibrate import _upper_95 as upper_95  # noqa: E402
from mphunter_gate.resolve import _file_version  # noqa: E402
from mphunter_gate.target import Target  # noqa: E402
from mphunter_gate.types import DistFile  # noqa: E402

RANKS = Path("/work/.library/env/packages/pypi.tsv")
DEFAULT_CACHE = Path("/tmp/mphunter-popular")
SKIPPED = "skipped (no artifact for this target)"
TOP_PASSES = 20


def ranked_names(top: int) -> list[tuple[int, str]]:
    """The `top` names by download rank (rank, name), best first; unranked rows skipped."""
    rows = []
    for line in RANKS.read_text(encoding="utf-8").splitlines()[1:]:
        parts = line.split("\t")
        if len(parts) > 3 and parts[3].strip().isdigit():
            rows.append((int(parts[3]), parts[0]))
    rows.sort()
    seen: set[str] = set()
    out = []
    for rank, name in rows:
        key = canonicalize_name(name)
        if key not in seen:
            seen.add(key)
            out.append((rank, name))
    return out[:top]


def series_of(v: Version) -> tuple[int, int, int]:
    """A release series: epoch, major, minor."""
    return (v.epoch, v.release[0], v.release[1] if len(v.release) > 1 else 0)


def last_series(
    files: Sequence[DistFile], name: str, n: int, target: Target
) -> list[dict[str, Any]]:
    """The newest final, not fully yanked release of each of the last `n` series."""
    canon = canonicalize_name(name)
    by_version: dict[Version, list[DistFile]] = {}
    for f in files:
        v = _file_version(f, canon)
        if v is not None and not v.is_prerelease and not v.is_devrelease:
            by_version.setdefault(v, []).append(f)
    newest: dict[tuple[int, int, int], Version] = {}
    for v, fs in by_version.items():
        if all(f.yanked for f in fs):
            continue
        s = series_of(v)
        if s not in newest or v > newest[s]:
            newest[s] = v
    picked = sorted(newest.items(), reverse=True)[:n]
    out = []
    for i, (s, v) in enumerate(picked):
        fs = [f for f in by_version[v] if not f.yanked]
        out.append(
            {
                "name": canon,
                "version": str(v),
                "series": ".".join(map(str, s[1:])) if s[0] == 0 else f"{s[0]}!{s[1]}.{s[2]}",
                "series_index": i,
                "files": [f.filename for f in fs],
                "installable": any(target.supports_file(f) for f in fs),
            }
        )
    return out


def list_projects(
    index: Index, names: Sequence[tuple[int, str]], n: int, target: Target, jobs: int
) -> tuple[list[dict[str, Any]], dict[str, str], dict[str, tuple[DistFile, ...]]]:
    """Releases to judge, projects the index could not list, and every project's files."""
    files: dict[str, tuple[DistFile, ...]] = {}
    errors: dict[str, str] = {}

    def one(item: tuple[int, str]) -> tuple[str, tuple[DistFile, ...] | str]:
        try:
            return item[1], index.project_files(item[1])
        except (GateError, OSError, ValueError) as exc:
            return item[1], f"{type(exc).__name__}: {exc}"[:300]

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        listed = list(pool.map(one, names))
    releases = []
    for (rank, _), (name, got) in zip(names, listed, strict=True):
        if isinstance(got, str):
            errors[name] = got
            continue
        files[canonicalize_name(name)] = got
        found = last_series(got, name, n, target)
        if not found:
            errors[name] = "no final release on the index"
        for r in found:
            r["rank"] = rank
            releases.append(r)
    return releases, errors, files


def write_pylock(pins: Sequence[dict[str, Any]], path: Path) -> str:
    """A PEP 751 lock naming exactly these releases (no files: `check` looks them up)."""
    lines = ['lock-version = "1.0"', 'created-by = "mphunter-gate bench/popular_releases.py"', ""]
    for p in pins:
        lines += [
            "[[packages]]",
            f"name = {json.dumps(p['name'])}",
            f"version = {json.dumps(p['version'])}",
            "",
        ]
    text = "\n".join(lines)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return text


def gate_argv(args: argparse.Namespace, lock: Path, report: Path) -> list[str]:
    gate = Path(sys.executable).parent / "mphunter-gate"
    argv = [str(gate), "check", str(lock), "--format", "json", "--output", str(report)]
    for v in args.python_version or ():
        argv += ["--python-version", v]
    for p in args.platform or ():
        argv += ["--platform", p]
    if args.analyse_known:
        argv.append("--analyse-known")
    if args.models:
        argv += ["--models", str(args.models)]
    return argv


def run_batch(
    args: argparse.Namespace, pins: Sequence[dict[str, Any]], label: str, env: dict[str, str]
) -> list[dict[str, Any]]:
    """The check report(s) of one batch; a crashed batch is re-run one pin per process."""
    key = hashlib.sha256(json.dumps([(p["name"], p["version"]) for p in pins]).encode())
    folder = args.cache_dir / "batches" / f"{label}-{key.hexdigest()[:12]}"
    lock = folder / "pylock.toml"
    report = folder / "report.json"
    write_pylock(pins, lock)
    if report.exists():  # resumed
        try:
            return [json.loads(report.read_text(encoding="utf-8"))]
        except ValueError:
            report.unlink()
    argv = gate_argv(args, lock, report)
    started = time.monotonic()
    try:
        proc = subprocess.run(
            argv, env=env, capture_output=True, text=True, timeout=args.timeout, check=False
        )
        rc, stderr = proc.returncode, proc.stderr
    except subprocess.TimeoutExpired:
        rc, stderr = -1, f"timed out after {args.timeout:g} s"
    seconds = time.monotonic() - started
    (folder / "stderr.txt").write_text(stderr, encoding="utf-8")
    if rc in (0, 1, 4) and report.exists():
        doc = json.loads(report.read_text(encoding="utf-8"))
        doc["_bench"] = {"seconds": seconds, "pins": len(pins), "rc": rc}
        report.write_text(json.dumps(doc), encoding="utf-8")
        print(f"  {label}: {len(pins)} pins, {seconds:.0f} s, rc {rc}", file=sys.stderr)
        return [doc]
    tail = stderr.strip().splitlines()[-1:] or [""]
    print(f"  {label}: rc {rc} ({tail[0][:200]})", file=sys.stderr)
    if len(pins) > 1:
        out: list[dict[str, Any]] = []
        for i, p in enumerate(pins):
            out += run_batch(args, [p], f"{label}-one{i}", env)
        return out
    return [{"_error": {"pin": pins[0], "rc": rc, "stderr": stderr[-2000:]}}]


def deciding(result: dict[str, Any]) -> dict[str, Any]:
    """The archive and file that decided a result row, with its stage and score."""
    arts = result.get("artifacts") or []
    art = max(
        arts,
        key=lambda a: (a.get("verdict") == result.get("verdict"), a.get("score") or 0.0),
        default=None,
    )
    files = [f for f in result.get("files") or [] if f.get("score") is not None]
    top = max(files, key=lambda f: f["score"], default=None)
    return {
        "artifact": art["filename"] if art else None,
        "artifact_kind": art["kind"] if art else None,
        "file": top["path"] if top else None,
        "stage": top["stage"] if top else None,
        "kind": top["kind"] if top else None,
        "file_score": top["score"] if top else None,
        "nearest_malicious": top["nearest_malicious"] if top else None,
        "artifacts": [
            {"filename": a["filename"], "verdict": a["verdict"], "score": a["score"]} for a in arts
        ],
    }


def add_behaviours(
    rows: Sequence[dict[str, Any]],
    files: dict[str, tuple[DistFile, ...]],
    index: Index,
    models: Path | None,
) -> None:
    """The behaviours of each row's deciding file, recomputed on the cached bytes."""
    if not rows:
        return
    from mphunter_gate.gate import GateOptions, Judge, _artifact_scripts
    from mphunter_gate.types import Artifact

    judge = Judge(GateOptions(), models)
    for r in rows:
        if not r.get("artifact") or not r.get("file"):
            continue
        try:
            pick = next(f for f in files.get(r["name"], ()) if f.filename == r["artifact"])
            data = index.fetch(pick)
            art = Artifact(
                r["name"],
                r["version"],
                pick.filename,
                hashlib.sha256(data).hexdigest(),
                pick.kind,
                data,
            )
            scripts = _artifact_scripts(art, "all_files")
            one = replace(scripts, scripts=tuple(s for s in scripts.scripts if s.path == r["file"]))
            judged = judge.analyse(one)
            score = next((s for s in judged.scores if s.path == r["file"]), None)
            if score is None:
                r["behaviours_error"] = "file not scored when judged alone"
                continue
            r["behaviours"] = list(score.behaviours)
            r["recomputed_score"] = score.score
        except (StopIteration, GateError, OSError, ValueError) as exc:
            r["behaviours_error"] = f"{type(exc).__name__}: {exc}"[:300]


def fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def cell(text: object, width: int = 160) -> str:
    return str(text or "").replace("|", "\\|").replace("\n", " ")[:width]


def render(meta: dict[str, Any], rows: list[dict[str, Any]], extra: list[dict[str, Any]]) -> str:
    t = meta["totals"]
    judged, failed = t["judged"], t["failed"]
    lines = [
        "# False positives on popular releases (last release series of the top projects)",
        "",
        f"Models `{meta['model_version']}` (threshold {meta['threshold']}); top {meta['top']} "
        f"projects by downloads, newest final release of each of the last {meta['series']} "
        f"release series; target {meta['target']}"
        + ("; known-benign set off (`--analyse-known`)" if meta["analyse_known"] else "")
        + "; whole packages (installer's file and "
        "sdist), judged by `mphunter-gate check` on `pylock.toml` batches.",
        "",
        f"Command: `{meta['command']}`. Started {meta['started']}, ended {meta['ended']} "
        f"(UTC), wall {meta['wall_s']:.0f} s.",
        "",
        "| figure | releases | share of judged | 95 % upper bound |",
        "|---|---:|---:|---:|",
        f"| releases listed | {t['releases']} | - | - |",
        f"| judged (pass or fail) | {judged} | - | - |",
        f"| **fail** | {failed} | {failed / judged if judged else 0:.3%} "
        f"| {upper_95(failed, judged):.3%} |",
        f"| unscanned | {t['unscanned']} | - | - |",
        f"| {SKIPPED} | {t['skipped']} | - | - |",
        f"| no row in the report (gate error) | {t['missing']} | - | - |",
        f"| passes with no file scored (all known-benign or no behaviour) | {t['unscored']} "
        "| - | - |",
        "",
        f"Projects not listed ({len(meta['listing_errors'])}): "
        + (", ".join(f"{k} ({cell(v, 60)})" for k, v in meta["listing_errors"].items()) or "none"),
        "",
        "## Failures",
        "",
    ]
    fails = sorted((r for r in rows if r["status"] == "fail"), key=lambda r: -(r["score"] or 0))
    if fails:
        lines += [
            "| release | rank | series | artifact | file | stage | score | behaviours | reason |",
            "|---|---:|---|---|---|---|---:|---|---|",
        ]
        for r in fails:
            lines.append(
                f"| {r['name']}=={r['version']} | {r['rank']} | {r['series']} "
                f"| {r.get('artifact')} | {r.get('file')} | {r.get('stage')} "
                f"| {fmt(r['score'])} | {', '.join(r.get('behaviours') or []) or '-'} "
                f"| {cell(r['reason'])} |"
            )
    else:
        lines.append("None.")
    unscanned = [r for r in rows if r["status"] in ("unscanned", "missing")]
    lines += ["", "## Unscanned", ""]
    if unscanned:
        lines += ["| release | reason |", "|---|---|"]
        lines += [f"| {r['name']}=={r['version']} | {cell(r['reason'], 240)} |" for r in unscanned]
    else:
        lines.append("None.")
    passes = sorted(
        (r for r in rows if r["status"] == "pass" and r["score"] is not None),
        key=lambda r: -r["score"],
    )[:TOP_PASSES]
    lines += [
        "",
        f"## The {TOP_PASSES} highest-scoring passes",
        "",
        "| release | file | stage | score | behaviours | reason |",
        "|---|---|---|---:|---|---|",
    ]
    for r in passes:
        lines.append(
            f"| {r['name']}=={r['version']} | {r.get('artifact')}: {r.get('file')} "
            f"| {r.get('stage')} | {fmt(r['score'])} "
            f"| {', '.join(r.get('behaviours') or []) or '-'} | {cell(r['reason'], 120)} |"
        )
    skipped = [f"{r['name']}=={r['version']}" for r in rows if r["status"] == "skipped"]
    lines += ["", f"Skipped ({len(skipped)}): " + (", ".join(skipped) or "none"), ""]
    xf = [x for x in extra if x["verdict"] != "pass"]
    lines += [
        f"Build dependencies `check` judged beside the pins (sdist builds): {len(extra)} "
        f"releases, {sum(x['verdict'] == 'fail' for x in extra)} fail, "
        f"{sum(x['verdict'] == 'unscanned' for x in extra)} unscanned"
        + (
            ": "
            + "; ".join(f"{x['name']}=={x['version']} {x['verdict']} {fmt(x['score'])}" for x in xf)
            if xf
            else "."
        ),
        "",
        f"Batches: {meta['batches']} `check` processes, {meta['check_s']:.0f} s of check "
        f"wall time in all (a resumed batch counts its first run); {meta['gate_errors']} batch "
        "errors.",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--top", type=int, default=1000, help="most downloaded projects (default 1000)")
    ap.add_argument("--series", type=int, default=3, help="last release series each (default 3)")
    ap.add_argument("--models", type=Path, default=None, help="models directory (default: bundled)")
    ap.add_argument("--batch", type=int, default=50, help="releases per check process")
    ap.add_argument("--jobs", type=int, default=1, help="check processes at once (default 1)")
    ap.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE, help="gate cache + batches")
    ap.add_argument("--python-version", action="append", help="passed to check (repeatable)")
    ap.add_argument("--platform", action="append", help="passed to check (repeatable)")
    ap.add_argument(
        "--analyse-known",
        action="store_true",
        help="passed to check: score files byte-identical to benign corpus files too",
    )
    ap.add_argument("--timeout", type=float, default=3600.0, help="seconds per check process")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "popular_releases.md")
    args = ap.parse_args()
    command = shlex.join(["python", "bench/popular_releases.py", *sys.argv[1:]])
    started_at = datetime.now(timezone.utc)
    t0 = time.monotonic()
    args.cache_dir = args.cache_dir.resolve()
    gate_cache = args.cache_dir / "gate"
    gate_cache.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, MPHUNTER_GATE_CACHE=str(gate_cache), MPHUNTER_GATE_NO_PROGRESS="1")
    index = Index("https://pypi.org/simple", cache_dir=gate_cache)
    pv = args.python_version[0] if args.python_version else None
    plat = args.platform[0] if args.platform else None
    target = Target.create(pv, plat)

    names = ranked_names(args.top)
    print(f"listing {len(names)} projects", file=sys.stderr)
    releases, listing_errors, files = list_projects(index, names, args.series, target, jobs=8)
    todo = [r for r in releases if r["installable"]]
    batches: list[tuple[str, list[dict[str, Any]]]] = []
    for s in range(args.series):
        pins = [r for r in todo if r["series_index"] == s]
        for k in range(0, len(pins), args.batch):
            batches.append((f"s{s}-{k // args.batch:03d}", pins[k : k + args.batch]))
    print(
        f"{len(releases)} releases, {len(todo)} to judge, {len(batches)} batches", file=sys.stderr
    )

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        docs = [
            d for ds in pool.map(lambda b: run_batch(args, b[1], b[0], env), batches) for d in ds
        ]

    results: dict[tuple[str, str], dict[str, Any]] = {}
    extra: dict[tuple[str, str], dict[str, Any]] = {}
    errors: dict[tuple[str, str], str] = {}
    pinned = {(r["name"], r["version"]) for r in todo}
    model_version, threshold = None, None
    check_s = 0.0
    for doc in docs:
        if "_error" in doc:
            e = doc["_error"]
            errors[(e["pin"]["name"], e["pin"]["version"])] = (
                f"check rc {e['rc']}: " + (e["stderr"].strip().splitlines()[-1:] or [""])[0]
            )
            continue
        model_version = model_version or doc.get("model_version")
        threshold = threshold if threshold is not None else doc.get("threshold")
        check_s += doc.get("_bench", {}).get("seconds", 0.0)
        for res in doc.get("results", []):
            key = (canonicalize_name(str(res.get("name"))), str(res.get("version")))
            if key in pinned:
                results[key] = res
            else:
                extra.setdefault(
                    key,
                    {
                        "name": key[0],
                        "version": key[1],
                        "verdict": res.get("verdict"),
                        "score": res.get("score"),
                        "reason": res.get("reason"),
                        "notes": res.get("notes"),
                        **deciding(res),
                    },
                )

    rows = []
    for r in releases:
        key = (r["name"], r["version"])
        row = {k: r[k] for k in ("name", "version", "rank", "series", "series_index")}
        res = results.get(key)
        if not r["installable"]:
            row.update(status="skipped", verdict=None, score=None, reason=SKIPPED)
        elif res is None:
            row.update(
                status="missing",
                verdict=None,
                score=None,
                reason=errors.get(key, "no row for this pin in the check report"),
            )
        else:
            row.update(
                status=res["verdict"],
                verdict=res["verdict"],
                score=res.get("score"),
                reason=res.get("reason"),
                rule=res.get("rule"),
                notes=res.get("notes"),
                policy=res.get("policy"),
                **deciding(res),
            )
        rows.append(row)

    passes = sorted(
        (r for r in rows if r["status"] == "pass" and r["score"] is not None),
        key=lambda r: -r["score"],
    )[:TOP_PASSES]
    add_behaviours([r for r in rows if r["status"] == "fail"] + passes, files, index, args.models)
    if model_version is None:
        manifest = (args.models or ROOT / "models") / "manifest.json"
        try:
            model_version = json.loads(manifest.read_text())["model_version"]
        except (OSError, ValueError, KeyError):
            model_version = "unknown"

    ended_at = datetime.now(timezone.utc)
    judged = sum(r["status"] in ("pass", "fail") for r in rows)
    failed = sum(r["status"] == "fail" for r in rows)
    totals = {
        "projects": len(names),
        "releases": len(rows),
        "judged": judged,
        "failed": failed,
        "passed": sum(r["status"] == "pass" for r in rows),
        "unscanned": sum(r["status"] == "unscanned" for r in rows),
        "skipped": sum(r["status"] == "skipped" for r in rows),
        "missing": sum(r["status"] == "missing" for r in rows),
        "unscored": sum(r["status"] == "pass" and r["score"] is None for r in rows),
        "fpr": failed / judged if judged else None,
        "fpr_upper_95": upper_95(failed, judged),
    }
    meta = {
        "command": command,
        "started": started_at.strftime("%Y-%m-%d %H:%M:%S"),
        "ended": ended_at.strftime("%Y-%m-%d %H:%M:%S"),
        "wall_s": time.monotonic() - t0,
        "check_s": check_s,
        "batches": len(batches),
        "gate_errors": len(errors),
        "model_version": model_version,
        "threshold": threshold,
        "analyse_known": args.analyse_known,
        "top": args.top,
        "series": args.series,
        "target": target.label,
        "totals": totals,
        "listing_errors": listing_errors,
    }
    text = render(meta, rows, list(extra.values()))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    args.out.with_suffix(".json").write_text(
        json.dumps({**meta, "releases": rows, "build_dependencies": list(extra.values())}, indent=1)
        + "\n",
        encoding="utf-8",
    )
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
