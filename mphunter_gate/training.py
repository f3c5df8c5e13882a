"""`mphunter-gate train` and `mphunter-gate evaluate`: the CLI's model commands.

Training reads the benign corpus that `mphunter-gate corpus` downloaded
and the known-malicious corpus (a .tar.xz read in memory as text, never
unpacked or run), and writes `models/` with its manifest. Evaluation
scores labelled folders of packages exactly the way `scan` does, so the
figures describe the shipped gate, not a lab variant of it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from pathlib import Path
from typing import Any

from mphunter_gate.errors import InputError
from mphunter_gate.model.manifest import sha256_file

log = logging.getLogger(__name__)


def _params(args: argparse.Namespace) -> Any:
    """TrainParams: defaults, then the seed's config.ini [train]/[basic], then flags."""
    from mphunter_gate.model import TrainParams

    values: dict[str, Any] = {}
    if getattr(args, "config", None) is not None:
        from mphunter_gate.config import load_config

        values.update(load_config(Path.cwd(), args.config).train_params)
    for key in ("vector_size", "epochs", "seed", "rank_mode"):
        v = getattr(args, key, None)
        if v is not None:
            values[key] = v
    return TrainParams.from_dict({**TrainParams().to_dict(), **values})


def run_training(args: argparse.Namespace) -> int:
    from mphunter_gate.corpus import latest_entries
    from mphunter_gate.fetch.index import default_cache_dir
    from mphunter_gate.model import train
    from mphunter_gate.model.data import load_benign, load_malicious
    from mphunter_gate.select import SELECTION_VERSION

    logging.getLogger("mphunter_gate").setLevel(logging.INFO)
    corpus = args.corpus or default_cache_dir() / "corpus"
    tar = Path(args.malicious)
    jsonl = tar.with_suffix("").with_suffix(".jsonl")
    needed = (
        (corpus / "manifest.jsonl",) if args.known_only else (corpus / "manifest.jsonl", tar, jsonl)
    )
    for path in needed:
        if not path.exists():
            raise InputError(
                "not found (run `mphunter-gate corpus` for the benign side)", str(path)
            )
    if args.known_only:
        write_known(corpus, Path(args.out))
        return 0
    params = _params(args)
    malicious = load_malicious(tar, jsonl, prefix_len=params.prefix_len)
    benign = load_benign(
        corpus,
        prefix_len=params.prefix_len,
        per_package=params.benign_modules_per_package,
        seed=params.seed,
    )
    ok = [e for e in latest_entries(corpus) if e.status == "ok"]
    provenance = {
        "command": "mphunter-gate " + " ".join(sys.argv[1:]),
        "benign": {
            "source": "every file `select` reads of PyPI sdists downloaded by `mphunter-gate "
            "corpus` (newest final release with an sdist; names from data/benign_names.tsv; "
            "for the most downloaded, also the newest release of earlier series); per release "
            "every install/startup-time file and __init__.py and at most "
            f"{params.benign_modules_per_package} other modules (benign_modules_per_package)",
            "selection_version": SELECTION_VERSION,
            "corpus_manifest_sha256": sha256_file(corpus / "manifest.jsonl"),
            "packages_ok": len(ok),
            "packages_top": sum(1 for e in ok if e.sample == "top"),
            "packages_random": sum(1 for e in ok if e.sample == "random"),
            "packages_history": sum(1 for e in ok if e.sample == "history"),
            "scripts": len(benign),
        },
        "malicious": {
            "source": "MalRegistry development split (text only)",
            "archive": tar.name,
            "archive_sha256": sha256_file(tar),
            "scripts": len(malicious),
        },
    }
    manifest = train(benign, malicious, Path(args.out), params, provenance)
    write_known(corpus, Path(args.out))
    summary = getattr(manifest, "validation", None)
    print(
        f"models written to {args.out}: version {manifest.model_version}, "
        f"threshold {manifest.threshold:.4f}"
    )
    if summary:
        print(json.dumps(summary, indent=2, default=str))
    return 0


def write_known(corpus: Path, out: Path) -> None:
    """Write the known-benign file set of `corpus` into the models at `out` and
    record it in their manifest (the models themselves are left as they are)."""
    from mphunter_gate.model.data import benign_releases, release_scripts
    from mphunter_gate.model.known import KNOWN_FILES, KnownFiles, file_key
    from mphunter_gate.model.manifest import Manifest
    from mphunter_gate.model.pool import fork_map

    manifest = Manifest.read(out)
    releases = benign_releases(corpus)

    def keys(release: tuple[str, str, Path]) -> list[bytes]:
        return [file_key(s.text, s.kind, s.stage) for s in release_scripts(release[2])]

    per_release = fork_map(keys, releases)
    files = sum(len(k) for k in per_release)
    known = KnownFiles.from_keys(k for ks in per_release for k in ks)
    known.save(out / KNOWN_FILES)
    record = {
        "file": KNOWN_FILES,
        "sha256": sha256_file(out / KNOWN_FILES),
        "keys": len(known),
        "files": files,
        "releases": len(releases),
        "corpus_manifest_sha256": sha256_file(corpus / "manifest.jsonl"),
        "source": "every file `select` picks in the benign corpus's releases, keyed by "
        "sha256(kind, stage, text)[:16]; such files are reported `known` and not analysed",
    }
    dataclasses.replace(manifest, known=record).write(out)
    print(
        f"known-benign set written to {out / KNOWN_FILES}: {len(known)} keys from {files} "
        f"files of {len(releases)} releases"
    )


def _docs_from_folder(folder: Path, label: str, detector: Any) -> list[Any]:
    """One TrainingDoc per install-time script of every package in `folder`."""
    from mphunter_gate.analysis import analyse, tokens
    from mphunter_gate.errors import ArchiveError
    from mphunter_gate.gate import read_local
    from mphunter_gate.model import TrainingDoc

    if not folder.is_dir():
        raise InputError("not a directory", str(folder))
    docs = []
    for entry in sorted(folder.iterdir()):
        try:
            scripts = read_local(str(entry), "all_files")
        except ArchiveError as exc:
            log.warning("%s: unreadable, left out: %s", entry, exc)
            continue
        for s in scripts.scripts:
            a = analyse(s, priority=detector.priority)
            docs.append(
                TrainingDoc(
                    id=f"{entry.name}/{s.path}",
                    tokens=tuple(tokens(a)),
                    family=entry.name,
                    label=label,
                    script=s,
                )
            )
    return docs


def run_evaluation(args: argparse.Namespace) -> int:
    from mphunter_gate.model import BENIGN, MALICIOUS, Detector, evaluate

    detector = Detector.load(args.models)
    mal = _docs_from_folder(args.malicious, MALICIOUS, detector)
    ben = _docs_from_folder(args.benign, BENIGN, detector)
    cut = fitted_through = None
    if args.added is not None:
        from mphunter_gate.model.data import added_dates

        dates = added_dates(args.added)
        mal = [dataclasses.replace(d, added=dates.get(d.package)) for d in mal]
        manifest = detector.manifest
        cut = args.cut or str(manifest.params.get("temporal_cut") or "2024-07-01")
        fitted_through = manifest.provenance.get("malicious_added_through")
    result = evaluate(
        detector, mal, ben, plot_dir=args.plot, cut=cut, fitted_through=fitted_through
    )
    print(json.dumps(result, indent=2, default=str))
    return 0
