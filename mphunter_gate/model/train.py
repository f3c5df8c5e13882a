"""`train`: corpora in, a verified models directory out.

The order follows the method: a first token list per script (no branch
priority yet) trains APIEM; with APIEM's priority the scripts are
re-analysed into their canonical sequences; those train CCEM; every
script is then embedded by inference (as it will be at check time) and
the benign index is clustered. Before anything is fitted, benign scripts
are split by package into index / calibration and malicious scripts by
family into train / validation, so the threshold is calibrated on benign
packages the index never saw and the validation figures are on malware
families the models never saw.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mphunter_gate.model.apiem import train_apiem
from mphunter_gate.model.calibrate import choose_threshold
from mphunter_gate.model.ccem import Ccem, train_ccem
from mphunter_gate.model.data import Tokenizer, retokenize
from mphunter_gate.model.docs import BENIGN, MALICIOUS, TrainingDoc
from mphunter_gate.model.index import ReferenceIndex
from mphunter_gate.model.manifest import Manifest, sha256_file, version_from_hashes
from mphunter_gate.model.metrics import family_recall, rates, roc_auc
from mphunter_gate.model.params import TrainParams
from mphunter_gate.model.rscore import __doc__ as RSCORE_DOC
from mphunter_gate.model.scorer import Scorer
from mphunter_gate.model.split import split_by_group

log = logging.getLogger(__name__)

APIEM_MODEL = "apiem.model"
APIEM_DIRECTION = "apiem_direction.npy"
CCEM_MODEL = "ccem.model"
CLUSTERER = "benign_hdbscan.pkl"
VECTORS = "reference_vectors.npz"
ARTIFACTS = (APIEM_MODEL, APIEM_DIRECTION, CCEM_MODEL, CLUSTERER, VECTORS)


def _unique(token_lists: Sequence[Sequence[str]]) -> list[tuple[str, ...]]:
    seen: dict[tuple[str, ...], None] = {}
    for toks in token_lists:
        if toks:
            seen.setdefault(tuple(toks), None)
    return list(seen)


def _embed_unique(ccem: Ccem, docs: Sequence[TrainingDoc]) -> tuple[Any, list[TrainingDoc]]:
    """Unit vectors of the distinct non-empty token lists, with one doc per vector."""
    import numpy as np

    rows: list[Any] = []
    kept: list[TrainingDoc] = []
    seen: set[tuple[str, ...]] = set()
    for doc in docs:
        if not doc.tokens or doc.tokens in seen:
            continue
        seen.add(doc.tokens)
        vec = ccem.embed(doc.tokens)
        if vec is not None:
            rows.append(vec)
            kept.append(doc)
    if not rows:
        return np.zeros((0, ccem.vector_size), dtype="float32"), kept
    return np.vstack(rows), kept


def _check_labels(docs: Sequence[TrainingDoc], label: str) -> None:
    bad = [d.id for d in docs if d.label != label]
    if bad:
        raise ValueError(
            f"{len(bad)} documents passed as {label} are labelled otherwise: {bad[:3]}"
        )


def train(
    benign: Sequence[TrainingDoc],
    malicious: Sequence[TrainingDoc],
    out_dir: Path,
    params: TrainParams,
    provenance: dict[str, Any],
    *,
    tokenizer: Tokenizer | None = None,
) -> Manifest:
    """Fit, calibrate, validate and write the models; returns the manifest.

    `tokenizer(script, priority)` re-analyses scripts once APIEM exists; it
    defaults to the analysis stage. Docs without a `script` keep their
    tokens (hand-built docs in tests; or `params.reanalyse=False`).
    """
    started = time.monotonic()
    timings: dict[str, float] = {}

    def lap(name: str, since: float) -> float:
        now = time.monotonic()
        timings[name] = round(now - since, 3)
        log.info("train: %s took %.1f s", name, now - since)
        return now

    _check_labels(benign, BENIGN)
    _check_labels(malicious, MALICIOUS)
    benign = sorted(benign, key=lambda d: d.id)
    malicious = sorted(malicious, key=lambda d: d.id)
    index_docs, calib_docs = split_by_group(benign, params.calibration_fraction, params.seed)
    mal_train, mal_val = split_by_group(malicious, params.validation_fraction, params.seed)
    if not index_docs or not calib_docs:
        raise ValueError("need benign scripts from at least two packages (index + calibration)")
    t = time.monotonic()

    apiem = train_apiem(
        [d.tokens for d in index_docs],
        [d.tokens for d in mal_train],
        vector_size=params.apiem_vector_size,
        window=params.window,
        epochs=params.apiem_epochs,
        bucket=params.apiem_bucket,
        prefix_len=params.prefix_len,
        seed=params.seed,
        workers=params.workers,
    )
    t = lap("apiem", t)

    if params.reanalyse and any(d.script is not None for d in (*benign, *malicious)):
        tok = tokenizer
        if tok is None:
            from mphunter_gate.model.data import analysis_tokenizer

            tok = analysis_tokenizer(params.prefix_len)
        index_docs, calib_docs, mal_train, mal_val = (
            retokenize(group, tok, apiem.priority)
            for group in (index_docs, calib_docs, mal_train, mal_val)
        )
        t = lap("reanalyse", t)

    ccem = train_ccem(
        _unique([d.tokens for d in (*index_docs, *mal_train)]),
        vector_size=params.vector_size,
        window=params.window,
        min_count=params.min_count,
        epochs=params.epochs,
        infer_epochs=params.effective_infer_epochs,
        seed=params.seed,
        workers=params.workers,
    )
    t = lap("ccem", t)

    benign_vecs, benign_kept = _embed_unique(ccem, index_docs)
    mal_vecs, mal_kept = _embed_unique(ccem, mal_train)
    if len(mal_kept) > params.max_malicious_reference:
        mal_vecs = mal_vecs[: params.max_malicious_reference]
        mal_kept = mal_kept[: params.max_malicious_reference]
    t = lap("embed_reference", t)

    index = ReferenceIndex.fit(
        benign_vecs,
        mal_vecs,
        [d.id for d in mal_kept],
        min_cluster_size=params.min_cluster_size,
        min_samples=params.min_samples,
    )
    t = lap("hdbscan", t)

    scorer = Scorer(ccem, index, params.rank_mode)
    calib_scores = [
        s.score
        for s in scorer.score_batch([d.id for d in calib_docs], [d.tokens for d in calib_docs])
    ]
    calibration = choose_threshold(calib_scores, params.target_fpr)
    val_scores = [
        s.score for s in scorer.score_batch([d.id for d in mal_val], [d.tokens for d in mal_val])
    ]
    t = lap("calibrate_validate", t)

    validation: dict[str, Any] = {
        "split": (
            "malicious by family (disjoint); benign by package, calibration held out of the index"
        ),
        "calibration": calibration.as_dict(),
        "at_threshold": rates(val_scores, calib_scores, calibration.threshold),
        "roc_auc": roc_auc(val_scores, calib_scores),
        "family_recall": family_recall(
            val_scores, [d.group for d in mal_val], calibration.threshold
        ),
        "n_validation_families": len({d.group for d in mal_val}),
        "n_train_families": len({d.group for d in mal_train}),
        "validation_empty_token_lists": sum(1 for d in mal_val if not d.tokens),
        "calibration_empty_token_lists": sum(1 for d in calib_docs if not d.tokens),
    }

    out_dir.mkdir(parents=True, exist_ok=True)
    apiem.save(out_dir / APIEM_MODEL, out_dir / APIEM_DIRECTION)
    ccem.save(out_dir / CCEM_MODEL)
    index.save(out_dir / CLUSTERER, out_dir / VECTORS)
    hashes = {name: sha256_file(out_dir / name) for name in ARTIFACTS}
    lap("save", t)
    timings["total"] = round(time.monotonic() - started, 3)

    n_clusters = int(index.clusterer_.labels_.max()) + 1
    manifest = Manifest(
        model_version=version_from_hashes(hashes),
        threshold=calibration.threshold,
        artifacts=hashes,
        params=params.to_dict(),
        provenance={
            **provenance,
            "counts": {
                "benign_index_scripts": len(index_docs),
                "benign_index_vectors": len(benign_kept),
                "benign_calibration_scripts": len(calib_docs),
                "malicious_train_scripts": len(mal_train),
                "malicious_reference_vectors": len(mal_kept),
                "malicious_validation_scripts": len(mal_val),
            },
        },
        validation=validation,
        scoring={
            "rank_mode": params.rank_mode,
            "definition": " ".join((RSCORE_DOC or "").split()),
            "features": [
                "ccem_embedding",
                "glosh_outlierness",
                "nearest_benign",
                "nearest_malicious",
            ],
            "hdbscan_clusters": n_clusters,
            "hdbscan_noise_fraction": float((index.clusterer_.labels_ < 0).mean()),
            "apiem_priority": (
                "cosine(api vector, mean malicious - mean benign doc vector), mapped to [0,1]"
            ),
            "timings_s": timings,
        },
    )
    manifest.write(out_dir)
    return manifest
