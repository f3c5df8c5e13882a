"""Scores of every file of benign wheels, by stage: the data behind `data/module_evidence.toml`.

Usage: python bench/module_scores.py --out FILE [--top 600] [--random 200] [--seed 7]

The bundled models' threshold was calibrated on install- and import-time files
(setup.py, backends, .pth, top-level `__init__.py` and what it imports). Reading
every file of a package puts files in front of the models that calibration never
showed them: deep modules, command-line entry points, code only a caller runs. This
measures what the models say of such files in packages people really install: the
installer's file for this machine of the newest release of the `--top` most
downloaded PyPI projects and of `--random` more drawn from ranks above that (the long
tail), excluding every package the `../shared/bench/` dependency sets resolve to
(those stay held out, to measure the gate on). Nothing is run: files are read as
`check` reads them. Writes one JSON line per package: name, version, file, and
(path, kind, stage, score) per scored file, or the reason it was not judged.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mphunter_gate.errors import ArchiveError, GateError  # noqa: E402
from mphunter_gate.fetch.choose import installer_file  # noqa: E402
from mphunter_gate.fetch.index import Index, default_cache_dir  # noqa: E402
from mphunter_gate.gate import GateOptions, Judge, _artifact_scripts, collect  # noqa: E402
from mphunter_gate.resolve import resolve  # noqa: E402
from mphunter_gate.target import Target  # noqa: E402
from mphunter_gate.types import Artifact  # noqa: E402

RANKS = Path("/work/.library/env/packages/pypi.tsv")
BENCH = sorted((ROOT.parent / "shared" / "bench").glob("*.txt"))


def ranked_names() -> list[str]:
    rows = []
    for line in RANKS.read_text().splitlines()[1:]:
        parts = line.split("\t")
        if len(parts) > 3 and parts[3].isdigit():
            rows.append((int(parts[3]), parts[0]))
    return [name for _, name in sorted(rows)]


def held_out(index: Index) -> set[str]:
    deps, _, _, _ = collect(BENCH)
    dists, _ = resolve(deps, index)
    return {canonicalize_name(d.name) for d in dists} | {
        canonicalize_name(d.requirement.split(";")[0].split("[")[0].split("=")[0].split(">")[0])
        for d in deps
    }


def newest(files: tuple, name: str) -> str | None:  # type: ignore[type-arg]
    from mphunter_gate.resolve import _file_version

    versions = set()
    for f in files:
        v = _file_version(f, canonicalize_name(name))
        if v is not None and not v.is_prerelease:
            versions.add(v)
    return str(max(versions)) if versions else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--top", type=int, default=600)
    ap.add_argument("--random", type=int, default=200)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--resume", action="store_true", help="append, skipping names in --out")
    args = ap.parse_args()
    index = Index("https://pypi.org/simple", cache_dir=default_cache_dir())
    excluded = held_out(index)
    names = ranked_names()
    top = [n for n in names[: args.top] if canonicalize_name(n) not in excluded]
    rest = [n for n in names[args.top :] if canonicalize_name(n) not in excluded]
    sample = top + random.Random(args.seed).sample(rest, args.random)
    # The models' false positives are the question: files the benign corpus holds would
    # otherwise be reported `known` without a score.
    judge = Judge(GateOptions(known_files=False))
    target = Target.create()
    done = set()
    if args.resume and args.out.exists():
        done = {json.loads(line)["name"] for line in args.out.read_text().splitlines() if line}
    with args.out.open("a" if args.resume else "w") as out:
        for i, name in enumerate(sample):
            if name in done:
                continue
            row: dict[str, object] = {"name": name, "sample": "top" if i < len(top) else "random"}
            try:
                files = index.project_files(name)
                version = newest(files, name)
                from mphunter_gate.resolve import _file_version

                release = [
                    f
                    for f in files
                    if version and str(_file_version(f, canonicalize_name(name))) == version
                ]
                pick = installer_file(release, target)
                if pick is None:
                    raise GateError("no installable file")
                data = index.fetch(pick)
                import hashlib

                art = Artifact(
                    name,
                    version or "",
                    pick.filename,
                    hashlib.sha256(data).hexdigest(),
                    pick.kind,
                    data,
                )
                judged = judge.analyse(_artifact_scripts(art, "all_files"))
                by_path = {s.path: s.score for s in judged.scores}
                row.update(
                    version=version,
                    file=pick.filename,
                    scripts=[
                        [
                            a.path,
                            a.kind.value,
                            a.stage.value if a.stage else None,
                            by_path.get(a.path),
                            a.truncated,
                            a.parse.value,
                        ]
                        for a in judged.analyses
                    ],
                )
            except (GateError, ArchiveError, InvalidVersion, ValueError, OSError) as exc:
                row["error"] = str(exc)[:300]
            out.write(json.dumps(row) + "\n")
            out.flush()
            print(f"{i + 1}/{len(sample)} {name}", file=sys.stderr)


if __name__ == "__main__":
    _ = Version
    main()
