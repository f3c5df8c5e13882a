"""Real projects end to end: `mphunter-gate check` on public projects' own dependency files.

Usage: python bench/real_projects.py [--only NAME ...] [--cache-dir DIR] [--timeout S]
           [--out bench/results/real_projects.md] [--json bench/results/real_projects.json]
           [-- EXTRA CHECK ARGS]

Why (issue 16): the unit tests use synthetic files; users bring their own. This
runs `check` exactly as a user runs it on the dependency files of well-known
projects (`bench/real_projects/<name>/`, copied unchanged from the repository and
commit `bench/real_projects/index.toml` records), and reports per project the
packages, how many passed (the user's own local projects among them), failed and
were left unscanned, the wall time and peak memory, and every row that is not a
pass with its reason. A non-pass row without a reason is counted as unexplained:
the target is zero.

How: each project's folder is copied to a temporary directory (the run writes
nothing into this tree and sees no configuration but the project's own) and
`mphunter-gate check FILES --format json --output report.json` runs there as a
fresh process (`peers.measure`: wall time, peak RSS of the child). The cache is
`--cache-dir` (shared by the projects and kept between runs: warm after the first)
or, by default, a fresh empty one per project (cold: every page and file
downloaded). pip's configuration is ignored, so the index is PyPI unless a file
names another. Nothing any package contains is ever run: `check` reads archives
as text. The network is needed (PyPI), so this is a bench, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

import peers  # noqa: E402  (bench/ is not a package; its modules import each other)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - 3.10
    import tomli as tomllib

PROJECTS = BENCH / "real_projects"
INDEX = PROJECTS / "index.toml"


@dataclass
class Outcome:
    """One project's run: the counts, the time, and every row that is not a pass."""

    name: str
    source: str
    files: list[str]
    exit_code: int
    seconds: float
    peak_mib: float
    packages: int = 0
    passed: int = 0
    local: int = 0
    failed: int = 0
    unscanned: int = 0
    unexplained: int = 0
    model_version: str = ""
    error: str = ""  # the one-line error of a run that gave no report (exit 2/3)
    rows: list[dict[str, Any]] = field(default_factory=list)  # the non-pass rows


def load_index(path: Path = INDEX) -> list[dict[str, Any]]:
    projects = tomllib.loads(path.read_text())["project"]
    for p in projects:
        for f in p["files"]:
            if not (PROJECTS / p["name"] / f).is_file():
                raise SystemExit(f"{path}: {p['name']}: {f} is not in {PROJECTS / p['name']}")
    return list(projects)


def run_one(
    project: dict[str, Any], cache: Path | None, timeout: float, extra: list[str]
) -> Outcome:
    with tempfile.TemporaryDirectory(prefix=f"real-{project['name']}-") as tmp:
        work = Path(tmp) / project["name"]
        shutil.copytree(PROJECTS / project["name"], work)
        own_cache = cache or Path(tmp) / "cache"
        env = dict(os.environ)
        env.update(MPHUNTER_GATE_CACHE=str(own_cache), PIP_CONFIG_FILE=os.devnull)
        for var in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "MPHUNTER_GATE_INDEX_URL"):
            env.pop(var, None)
        report = Path(tmp) / "report.json"
        argv = [
            str(peers.gate_executable()),
            "check",
            *project["check"],
            "--format",
            "json",
            "--output",
            str(report),
            *extra,
        ]
        m = peers.measure(argv, env=env, timeout=timeout, cwd=work)
        out = Outcome(
            name=project["name"],
            source=f"{project['repo']}@{project['commit'][:12]}",
            files=list(project["check"]),
            exit_code=m.exit_code,
            seconds=round(m.seconds, 1),
            peak_mib=round(m.peak_mib),
        )
        if m.timed_out:
            out.error = f"timed out after {timeout:g} s"
            return out
        if not report.is_file():
            out.error = m.tail()
            return out
        doc = json.loads(report.read_text())
    out.model_version = str(doc.get("model_version", ""))
    for row in doc["results"]:
        out.packages += 1
        verdict = row["verdict"]
        if verdict == "pass":
            out.passed += 1
            out.local += row.get("version") == "local"
            continue
        if verdict == "fail":
            out.failed += 1
        else:
            out.unscanned += 1
        reason = str(row.get("reason") or "").strip()
        out.unexplained += not reason
        origin = row.get("origin") or {}
        out.rows.append(
            {
                "name": row["name"],
                "version": row.get("version", ""),
                "verdict": verdict,
                "reason": reason,
                "origin": f"{origin.get('file', '')}:{origin.get('line', '')}",
                "allowed_by": row.get("allowed_by"),
            }
        )
    return out


def _git_head() -> str:
    try:
        return subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def markdown(outcomes: list[Outcome], command: str, when: str, cache: str) -> str:
    lines = [
        "# Real projects: `mphunter-gate check` on public projects' own dependency files",
        "",
        f"Run {when} on this tree at `{_git_head()}` (uncommitted changes, if any, included),"
        f" models `{next((o.model_version for o in outcomes if o.model_version), '?')}`,"
        f" {cache}, against PyPI:",
        "",
        "```sh",
        command,
        "```",
        "",
        "Fixtures and their source commits: `bench/real_projects/index.toml`. `pass` counts"
        " the user's own local projects (`-e .`, uv workspace members) among the passes.",
        "",
        "| project | source | files | exit | packages | pass (local) | fail | unscanned"
        " | unexplained | s | peak MiB |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for o in outcomes:
        if o.error:
            lines.append(
                f"| {o.name} | {o.source} | {', '.join(o.files)} | {o.exit_code} | - | - | - | -"
                f" | - | {o.seconds} | {o.peak_mib} |"
            )
            continue
        lines.append(
            f"| {o.name} | {o.source} | {', '.join(o.files)} | {o.exit_code} | {o.packages} |"
            f" {o.passed} ({o.local}) | {o.failed} | {o.unscanned} | {o.unexplained} |"
            f" {o.seconds} | {o.peak_mib} |"
        )
    for o in outcomes:
        if not (o.error or o.rows):
            continue
        lines += ["", f"## {o.name}: every row that is not a pass", ""]
        if o.error:
            lines.append(f"- no report (exit {o.exit_code}): {o.error}")
        for r in o.rows:
            version = f" {r['version']}" if r["version"] else ""
            lines.append(
                f"- `{r['name']}{version}` **{r['verdict']}** ({r['origin']}): "
                f"{r['reason'] or 'NO REASON GIVEN'}"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args_in = sys.argv[1:] if argv is None else argv
    extra: list[str] = []
    if "--" in args_in:
        cut = args_in.index("--")
        args_in, extra = args_in[:cut], args_in[cut + 1 :]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", default=[], help="project name (repeatable)")
    parser.add_argument(
        "--cache-dir", type=Path, help="one cache for every project (default: a cold one each)"
    )
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per project")
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "real_projects.md")
    parser.add_argument("--json", type=Path, default=BENCH / "results" / "real_projects.json")
    args = parser.parse_args(args_in)
    projects = load_index()
    names = {p["name"] for p in projects}
    unknown = sorted(set(args.only) - names)
    if unknown:
        parser.error(f"unknown project(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}")
    chosen = [p for p in projects if not args.only or p["name"] in args.only]
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    outcomes = []
    for p in chosen:
        print(f"== {p['name']}: check {' '.join(p['check'])}", file=sys.stderr, flush=True)
        o = run_one(p, args.cache_dir, args.timeout, extra)
        print(
            f"   exit {o.exit_code}, {o.packages} packages, {o.passed} pass ({o.local} local), "
            f"{o.failed} fail, {o.unscanned} unscanned, {o.unexplained} unexplained, "
            f"{o.seconds} s, {o.peak_mib} MiB {o.error}",
            file=sys.stderr,
            flush=True,
        )
        outcomes.append(o)
    command = "python bench/real_projects.py " + shlex.join(
        args_in + (["--", *extra] if extra else [])
    )
    cache = f"cache `{args.cache_dir}`" if args.cache_dir else "a cold cache per project"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(markdown(outcomes, command.strip(), when, cache))
    args.json.write_text(
        json.dumps(
            {"when": when, "command": command, "runs": [asdict(o) for o in outcomes]}, indent=1
        )
        + "\n"
    )
    print(f"wrote {args.out} and {args.json}", file=sys.stderr)
    return 1 if any(o.unexplained or o.error for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
