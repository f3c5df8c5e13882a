"""Training time and model size on a subset of the real corpora.

Not run by CI. It loads N malicious samples (from the shared corpus, in
memory) and up to M benign packages (from the `mphunter-gate corpus`
cache), trains into a temporary folder, and prints one JSON document:
load/analysis time, per-stage training time, artifact sizes, the
manifest's validation figures and `evaluate` on the validation split.
Use it to size the full training run before starting it.

    python bench/train_bench.py --malicious 300 --benign 1000
    python bench/train_bench.py --tokenizer fallback   # before analysis lands

`--tokenizer fallback` is a crude AST call-name lister kept here only so
the model stage can be exercised without the analysis stage; shipped
models are always trained with the analysis stage.
"""

from __future__ import annotations

import argparse
import ast
import json
import logging
import random
import sys
import tempfile
import time
from pathlib import Path

from mphunter_gate.model import TrainParams, train
from mphunter_gate.model.apiem import shorten
from mphunter_gate.model.data import (
    DEFAULT_MAL_JSONL,
    DEFAULT_MAL_TAR,
    Priority,
    Tokenizer,
    analysis_tokenizer,
    default_corpus_dir,
    load_benign,
    load_malicious,
)
from mphunter_gate.model.detector import Detector
from mphunter_gate.model.evaluate import evaluate
from mphunter_gate.model.split import split_by_group
from mphunter_gate.types import Script

BUILTINS = {"exec", "eval", "compile", "open", "__import__", "getattr", "setattr"}
FALLBACK_BAD = {"setuptools.setup", "core.setup", "path.join", "os.path", "setup"}


def fallback_tokenizer(prefix_len: int) -> Tokenizer:
    """Call names in source order with import aliases resolved; no CFG, no priority."""

    def run(script: Script, priority: Priority | None) -> tuple[str, ...]:
        try:
            tree = ast.parse(script.text)
        except (SyntaxError, ValueError, RecursionError):
            return ()
        alias: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    alias[a.asname or a.name.split(".")[0]] = (
                        a.name if a.asname else a.name.split(".")[0]
                    )
            elif isinstance(node, ast.ImportFrom) and node.module:
                for a in node.names:
                    alias[a.asname or a.name] = f"{node.module}.{a.name}"
        out: list[str] = []

        def dotted(expr: ast.expr) -> str | None:
            if isinstance(expr, ast.Name):
                if expr.id in alias:
                    return alias[expr.id]
                return f"builtins.{expr.id}" if expr.id in BUILTINS else expr.id
            if isinstance(expr, ast.Attribute):
                base = dotted(expr.value)
                return f"{base}.{expr.attr}" if base else None
            return None

        class Visitor(ast.NodeVisitor):
            def visit_Call(self, node: ast.Call) -> None:
                self.generic_visit(node)
                name = dotted(node.func)
                if name:
                    tok = shorten(name, prefix_len)
                    if tok not in FALLBACK_BAD:
                        out.append(tok)

        try:
            Visitor().visit(tree)
        except RecursionError:
            return tuple(out)
        return tuple(out)

    return run


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.iterdir() if p.is_file())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--malicious", type=int, default=300, help="malicious samples (0 = all)")
    ap.add_argument("--benign", type=int, default=1000, help="benign packages (0 = all)")
    ap.add_argument("--corpus", type=Path, default=None)
    ap.add_argument("--tokenizer", choices=("analysis", "fallback"), default="analysis")
    ap.add_argument("--vector-size", type=int, default=TrainParams.vector_size)
    ap.add_argument("--epochs", type=int, default=TrainParams.epochs)
    ap.add_argument("--rank-mode", default=TrainParams.rank_mode)
    ap.add_argument("--out", type=Path, default=None, help="keep the models here")
    ap.add_argument("--seed", type=int, default=TrainParams.seed)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")

    params = TrainParams(
        vector_size=args.vector_size,
        epochs=args.epochs,
        rank_mode=args.rank_mode,
        seed=args.seed,
        # the fallback tokenizer has no analysis to redo once APIEM exists
        reanalyse=args.tokenizer == "analysis",
    )
    tok = (
        fallback_tokenizer(params.prefix_len)
        if args.tokenizer == "fallback"
        else analysis_tokenizer(params.prefix_len)
    )
    t0 = time.monotonic()
    samples = None
    if args.malicious:
        names = sorted(json.loads(line)["sample"] for line in DEFAULT_MAL_JSONL.open())
        samples = random.Random(args.seed).sample(names, min(args.malicious, len(names)))
    malicious = load_malicious(tokenizer=tok, samples=samples)
    t1 = time.monotonic()
    benign = load_benign(args.corpus, tokenizer=tok, limit=args.benign or None)
    t2 = time.monotonic()

    out = args.out or Path(tempfile.mkdtemp(prefix="mph-bench-"))
    manifest = train(
        benign,
        malicious,
        out,
        params,
        {
            "bench": True,
            "malicious": str(DEFAULT_MAL_TAR),
            "benign": str(args.corpus or default_corpus_dir()),
        },
    )
    t3 = time.monotonic()
    detector = Detector.load(out)
    t4 = time.monotonic()
    _, mal_val = split_by_group(
        sorted(malicious, key=lambda d: d.id), params.validation_fraction, params.seed
    )
    _, ben_cal = split_by_group(
        sorted(benign, key=lambda d: d.id), params.calibration_fraction, params.seed
    )
    # Evaluate scores the first-pass tokens: close to, not identical with, the
    # APIEM-ordered ones train() validated on (the fallback tokenizer ignores priority).
    evaluation = evaluate(detector, mal_val, ben_cal)
    t5 = time.monotonic()
    report = {
        "counts": {"malicious_scripts": len(malicious), "benign_scripts": len(benign)},
        "seconds": {
            "load_analyse_malicious": round(t1 - t0, 1),
            "load_analyse_benign": round(t2 - t1, 1),
            "train_total": round(t3 - t2, 1),
            "load_models": round(t4 - t3, 2),
            "evaluate": round(t5 - t4, 1),
            "per_stage": manifest.scoring.get("timings_s"),
        },
        "bytes": {p.name: p.stat().st_size for p in sorted(out.iterdir())},
        "total_bytes": _size(out),
        "threshold": manifest.threshold,
        "validation": manifest.validation,
        "evaluate": {k: v for k, v in evaluation.items() if k != "ranking"}
        | {"ranking": {k: v for k, v in evaluation["ranking"].items() if k != "per_draw"}},
        "models_dir": str(out),
    }
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
