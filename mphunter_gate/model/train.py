"""`train`: corpora in, a verified models directory out.

The order follows the method: a first token list per script (no branch
priority yet) trains APIEM; with APIEM's priority the scripts are
re-analysed into their canonical sequences (and their behaviour vectors);
those train CCEM; every script is then embedded by inference (as it will
be at check time) and the benign index is clustered. Then the combiner
(`combine.py`) learns how to weigh RScore against behaviour.

Splits, all decided before anything is fitted:

- benign, by package: calibration (never seen by any model), combiner-fit
  (out of the index, so its RScore parts look like a new package's) and
  index;
- malicious, by family: validation (families no model saw) and train.
  Train families are the malicious reference set, and for the combiner
  they are scored two-fold by family (each half against the other half's
  reference vectors), so the combiner learns from how a family it has
  *not* seen sits, which is the situation at check time.

The gate judges a package by its riskiest script, so the threshold is
calibrated on the per-package maximum over held-out benign packages, and
recall is reported per malicious package (and per family, each family
counting once), with per-script figures by file kind beside them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mphunter_gate.analysis.categories import load_rules
from mphunter_gate.model.apiem import train_apiem
from mphunter_gate.model.calibrate import choose_threshold
from mphunter_gate.model.ccem import Ccem, train_ccem
from mphunter_gate.model.clones import drop_benign_clones
from mphunter_gate.model.combine import fit_combiner, monotonic_constraints
from mphunter_gate.model.data import Featurizer, refeaturize
from mphunter_gate.model.docs import BENIGN, MALICIOUS, TrainingDoc
from mphunter_gate.model.evaluate import FILE_KINDS, ranking_draws
from mphunter_gate.model.index import ReferenceIndex
from mphunter_gate.model.manifest import Manifest, sha256_file, version_from_hashes
from mphunter_gate.model.metrics import rates, roc_auc
from mphunter_gate.model.params import TrainParams
from mphunter_gate.model.rarity import Rarity
from mphunter_gate.model.rscore import __doc__ as RSCORE_DOC
from mphunter_gate.model.scorer import Scorer, combiner_feature_names
from mphunter_gate.model.split import split_by_group

log = logging.getLogger(__name__)

APIEM_MODEL = "apiem.model"
APIEM_DIRECTION = "apiem_direction.npy"
CCEM_MODEL = "ccem.model"
CLUSTERER = "benign_hdbscan.pkl.gz"
VECTORS = "reference_vectors.npz"
COMBINER = "combiner.pkl"
RARITY = "rarity.json"
ARTIFACTS = (APIEM_MODEL, APIEM_DIRECTION, CCEM_MODEL, CLUSTERER, VECTORS, COMBINER, RARITY)


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


def _per_package(docs: Sequence[TrainingDoc], scores: Sequence[float]) -> dict[str, float]:
    """The gate's view: a package scores as its riskiest script."""
    out: dict[str, float] = {}
    for d, s in zip(docs, scores, strict=True):
        out[d.package] = max(out.get(d.package, 0.0), s)
    return out


def _weights(docs: Sequence[TrainingDoc]) -> list[float]:
    """Each group (malware family, benign package) weighs 1 in total, then the
    two classes are scaled to equal totals: a campaign with 2,000 copies
    counts as much as one with 2."""
    from collections import Counter

    size = Counter((d.label, d.group) for d in docs)
    raw = [1.0 / size[(d.label, d.group)] for d in docs]
    total = {
        lab: sum(w for w, d in zip(raw, docs, strict=True) if d.label == lab)
        for lab in (BENIGN, MALICIOUS)
    }
    return [w / total[d.label] if total[d.label] else 0.0 for w, d in zip(raw, docs, strict=True)]


def _fold(group: str, seed: int) -> int:
    import hashlib

    return hashlib.sha256(f"fold:{seed}:{group}".encode()).digest()[0] % 2


def _figures(
    mal: Sequence[TrainingDoc],
    mal_scores: Sequence[float],
    ben: Sequence[TrainingDoc],
    ben_scores: Sequence[float],
    threshold: float,
    seed: int,
) -> dict[str, Any]:
    """Package-level rates, per-family recall, per-kind script rates, ranking."""
    mal_pkg = _per_package(mal, mal_scores)
    ben_pkg = _per_package(ben, ben_scores)
    fam_of = {d.package: d.group for d in mal}
    pkgs = sorted(mal_pkg)
    per_family: dict[str, list[bool]] = {}
    for p in pkgs:
        per_family.setdefault(fam_of[p], []).append(mal_pkg[p] >= threshold)
    fam_recall = {f: sum(v) / len(v) for f, v in per_family.items()}
    per_kind: dict[str, Any] = {}
    for kind in FILE_KINDS:
        m = [s for s, d in zip(mal_scores, mal, strict=True) if d.file_kind == kind]
        b = [s for s, d in zip(ben_scores, ben, strict=True) if d.file_kind == kind]
        if m or b:
            per_kind[kind] = {**rates(m, b, threshold), "roc_auc": roc_auc(m, b)}
    mal_vals = [mal_pkg[p] for p in pkgs]
    ben_vals = [ben_pkg[p] for p in sorted(ben_pkg)]
    ranking = ranking_draws(mal_vals, ben_vals, seed=seed)
    ranking.pop("per_draw", None)
    return {
        "packages": {
            **rates(mal_vals, ben_vals, threshold),
            "roc_auc": roc_auc(mal_vals, ben_vals),
        },
        "scripts": {
            **rates(mal_scores, ben_scores, threshold),
            "roc_auc": roc_auc(mal_scores, ben_scores),
        },
        "family_recall_mean": (sum(fam_recall.values()) / len(fam_recall) if fam_recall else None),
        "families_fully_caught": sum(1 for v in fam_recall.values() if v == 1.0),
        "families_missed": sum(1 for v in fam_recall.values() if v == 0.0),
        "n_families": len(fam_recall),
        "family_recall": {f: round(v, 3) for f, v in sorted(fam_recall.items())},
        "per_kind_scripts": per_kind,
        "ranking_packages": ranking,
    }


def _combiner_cv(
    rows: Any,
    docs: Sequence[TrainingDoc],
    labels: Sequence[int],
    weights: Sequence[float],
    params: TrainParams,
    folds: int = 5,
) -> dict[str, Any]:
    """Leave-families-out cross-validation of the combiner alone.

    Groups (malware families, benign packages) are dealt into `folds` by a
    seeded hash; each fold is scored by a combiner fitted on the others and
    judged per package against its own benign packages, threshold at the
    target rate. A second, independent view beside the validation split.
    """
    import numpy as np

    y = np.asarray(labels)
    w = np.asarray(weights, dtype="float64")
    fold_of = np.asarray(
        [int(_unit_hash(f"cv:{params.seed}:{d.group}") * folds) for d in docs], dtype=int
    )
    per_fold: list[dict[str, Any]] = []
    for k in range(folds):
        test = fold_of == k
        train_idx = ~test
        if y[train_idx].min() == y[train_idx].max() or y[test].min() == y[test].max():
            continue
        model = fit_combiner(
            rows[train_idx],
            y[train_idx],
            w[train_idx],
            combiner_feature_names(),
            min_samples_leaf=params.combiner_min_leaf,
            max_iter=params.combiner_iterations,
            learning_rate=params.combiner_learning_rate,
            l2=params.combiner_l2,
            seed=params.seed,
        )
        scores = [float(v) for v in model.proba(rows[test])]
        test_docs = [d for d, t in zip(docs, test, strict=True) if t]
        ben = [(d, s) for d, s in zip(test_docs, scores, strict=True) if d.label == BENIGN]
        mal = [(d, s) for d, s in zip(test_docs, scores, strict=True) if d.label == MALICIOUS]
        ben_pkg = _per_package([d for d, _ in ben], [s for _, s in ben])
        mal_pkg = _per_package([d for d, _ in mal], [s for _, s in mal])
        cal = choose_threshold(list(ben_pkg.values()), params.target_fpr)
        fam_of = {d.package: d.group for d, _ in mal}
        fam: dict[str, list[bool]] = {}
        for pkg, v in mal_pkg.items():
            fam.setdefault(fam_of[pkg], []).append(v >= cal.threshold)
        per_fold.append(
            {
                "benign_packages": len(ben_pkg),
                "malicious_packages": len(mal_pkg),
                "families": len(fam),
                "threshold": cal.threshold,
                "recall": sum(v >= cal.threshold for v in mal_pkg.values()) / len(mal_pkg),
                "family_recall_mean": sum(sum(v) / len(v) for v in fam.values()) / len(fam),
                "roc_auc": roc_auc(list(mal_pkg.values()), list(ben_pkg.values())),
            }
        )
    if not per_fold:
        return {"folds": 0}
    mean = {
        key: sum(f[key] for f in per_fold if f[key] is not None) / len(per_fold)
        for key in ("recall", "family_recall_mean", "roc_auc")
    }
    return {"folds": len(per_fold), "mean": mean, "per_fold": per_fold}


def _unit_hash(key: str) -> float:
    import hashlib

    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") / 2**64


@dataclass
class _Fit:
    """One fit of every model, and the held-out docs re-analysed with its APIEM."""

    apiem: Any
    ccem: Ccem
    index: ReferenceIndex
    rarity: Rarity
    combiner: Any
    plain: Scorer
    scorer: Scorer
    cv: dict[str, Any]
    index_docs: list[TrainingDoc]
    benign_kept: int
    fit_docs: list[TrainingDoc]
    calib_docs: list[TrainingDoc]
    mal_train: list[TrainingDoc]
    mal_kept: int
    mal_val: list[TrainingDoc]


def temporal_split(
    malicious: Sequence[TrainingDoc], cut: str
) -> tuple[list[TrainingDoc], list[TrainingDoc], dict[str, Any]]:
    """(fit, validation, counts): validation is every doc added at or after `cut`;
    the fit is what was added before it, less every doc of a validation family, so
    no family measured was fitted. Undated docs are fitted only."""
    from mphunter_gate.model.data import utc_iso

    when = utc_iso(cut)
    val = [d for d in malicious if d.added is not None and d.added >= when]
    families = {d.group for d in val}
    before = [d for d in malicious if d.added is None or d.added < when]
    fit = [d for d in before if d.group not in families]
    return (
        fit,
        val,
        {
            "cut": when,
            "fit_scripts": len(fit),
            "validation_scripts": len(val),
            "undated_scripts": sum(1 for d in malicious if d.added is None),
            "dropped_before_cut_of_validation_families": len(before) - len(fit),
        },
    )


def _fit(
    index_docs: list[TrainingDoc],
    fit_docs: list[TrainingDoc],
    calib_docs: list[TrainingDoc],
    mal_train: list[TrainingDoc],
    mal_val: list[TrainingDoc],
    params: TrainParams,
    featurizer: Featurizer | None,
    lap: Any,
) -> _Fit:
    """APIEM, re-analysis, CCEM, the benign index, rarity and the combiner."""
    import numpy as np

    t = time.monotonic()
    cap = params.max_train_tokens
    apiem = train_apiem(
        [d.tokens[:cap] for d in index_docs],
        [d.tokens[:cap] for d in mal_train],
        vector_size=params.apiem_vector_size,
        window=params.window,
        epochs=params.apiem_epochs,
        bucket=params.apiem_bucket,
        prefix_len=params.prefix_len,
        seed=params.seed,
        workers=params.workers,
        min_count=params.min_count,
    )
    t = lap("apiem", t)

    feat = featurizer
    if feat is None and params.reanalyse and any(d.script is not None for d in index_docs):
        from mphunter_gate.model.data import analysis_featurizer

        feat = analysis_featurizer(params.prefix_len)
    if not params.reanalyse:
        feat = None
    index_docs, fit_docs, calib_docs, mal_train, mal_val = (
        refeaturize(group, feat, apiem.priority)
        for group in (index_docs, fit_docs, calib_docs, mal_train, mal_val)
    )
    t = lap("reanalyse", t)

    ccem = train_ccem(
        _unique([d.tokens[:cap] for d in (*index_docs, *mal_train)]),
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
    if len(benign_kept) > params.max_index_vectors:
        pick = np.random.RandomState(params.seed).choice(
            len(benign_kept), params.max_index_vectors, replace=False
        )
        pick.sort()
        benign_vecs = benign_vecs[pick]
        benign_kept = [benign_kept[i] for i in pick]
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

    rarity = Rarity.fit([d.behaviour for d in index_docs])
    # Combiner inputs, each scored the way a never-seen script would be.
    plain = Scorer(ccem, index, params.rank_mode, rarity=rarity)
    ben_place, ben_unknown = plain.place([d.tokens for d in fit_docs])
    mal_place: list[Any] = [None] * len(mal_train)
    mal_unknown: list[float] = [0.0] * len(mal_train)
    folds = [_fold(d.group, params.seed) for d in mal_train]
    kept_fold = np.asarray([_fold(d.group, params.seed) for d in mal_kept], dtype=int)
    for k in (0, 1):
        mine = [i for i, f in enumerate(folds) if f == k]
        if not mine:
            continue
        other = kept_fold != k
        half = ReferenceIndex(
            index.clusterer_,
            index.benign_,
            mal_vecs[other] if len(mal_vecs) else mal_vecs,
            [i for i, o in zip([d.id for d in mal_kept], other, strict=True) if o],
        )
        placed, unknown = Scorer(ccem, half, params.rank_mode).place(
            [mal_train[i].tokens for i in mine]
        )
        for i, p, u in zip(mine, placed, unknown, strict=True):
            mal_place[i], mal_unknown[i] = p, u
    fit_all = [*fit_docs, *mal_train]
    rows = plain.rows(
        [_as_behaviour(d) for d in fit_all],
        [*ben_place, *mal_place],
        [*ben_unknown, *mal_unknown],
    )
    labels = [0] * len(fit_docs) + [1] * len(mal_train)
    combiner = fit_combiner(
        rows,
        labels,
        _weights(fit_all),
        combiner_feature_names(),
        min_samples_leaf=params.combiner_min_leaf,
        max_iter=params.combiner_iterations,
        learning_rate=params.combiner_learning_rate,
        l2=params.combiner_l2,
        seed=params.seed,
    )
    cv = _combiner_cv(rows, fit_all, labels, _weights(fit_all), params)
    lap("combiner", t)
    return _Fit(
        apiem=apiem,
        ccem=ccem,
        index=index,
        rarity=rarity,
        combiner=combiner,
        plain=plain,
        scorer=Scorer(ccem, index, params.rank_mode, combiner, rarity),
        cv=cv,
        index_docs=index_docs,
        benign_kept=len(benign_kept),
        fit_docs=fit_docs,
        calib_docs=calib_docs,
        mal_train=mal_train,
        mal_kept=len(mal_kept),
        mal_val=mal_val,
    )


def _score_docs(docs: Sequence[TrainingDoc], s: Scorer) -> list[float]:
    from mphunter_gate.model.behaviour import token_analysis

    analyses = [token_analysis(d.id, ()) for d in docs]  # path only; behaviour given
    return [
        r.score
        for r in s.score_batch(analyses, [d.tokens for d in docs], [_as_behaviour(d) for d in docs])
    ]


def _validate(fit: _Fit, params: TrainParams, split: str) -> dict[str, Any]:
    """Calibrate on the held-out benign packages; measure the held-out malware."""
    calib_scores = _score_docs(fit.calib_docs, fit.scorer)
    calib_pkg = _per_package(fit.calib_docs, calib_scores)
    calibration = choose_threshold(list(calib_pkg.values()), params.target_fpr)
    out: dict[str, Any] = {
        "split": split,
        "calibration": {**calibration.as_dict(), "unit": "package"},
        "combiner_leave_families_out_cv": fit.cv,
        "calibration_empty_token_lists": sum(1 for d in fit.calib_docs if not d.tokens),
        "top_benign": _top_benign(fit.calib_docs, calib_scores),
    }
    if not fit.mal_val:
        return out
    val_scores = _score_docs(fit.mal_val, fit.scorer)
    out.update(
        _figures(
            fit.mal_val,
            val_scores,
            fit.calib_docs,
            calib_scores,
            calibration.threshold,
            params.seed,
        )
    )
    mal_pkg = list(_per_package(fit.mal_val, val_scores).values())
    out["recall_at_fpr"] = {}
    for rate in (0.001, 0.01):
        cal = choose_threshold(list(calib_pkg.values()), rate)
        out["recall_at_fpr"][str(rate)] = {
            "threshold": cal.threshold,
            "fpr": cal.fpr,
            "fpr_upper_95": cal.fpr_upper_95,
            "recall": sum(v >= cal.threshold for v in mal_pkg) / len(mal_pkg),
        }
    # The method alone (RScore), calibrated the same way, for comparison.
    rs_calib = _score_docs(fit.calib_docs, fit.plain)
    rs_cal = choose_threshold(
        list(_per_package(fit.calib_docs, rs_calib).values()), params.target_fpr
    )
    rs_val = _score_docs(fit.mal_val, fit.plain)
    out["rscore_only"] = {
        "calibration": rs_cal.as_dict(),
        **{
            k: v
            for k, v in _figures(
                fit.mal_val, rs_val, fit.calib_docs, rs_calib, rs_cal.threshold, params.seed
            ).items()
            if k != "family_recall"
        },
    }
    out["n_validation_families"] = len({d.group for d in fit.mal_val})
    out["n_train_families"] = len({d.group for d in fit.mal_train})
    out["validation_empty_token_lists"] = sum(1 for d in fit.mal_val if not d.tokens)
    # Backwards-compatible summary keys (package level).
    out["at_threshold"] = out["packages"]
    out["roc_auc"] = out["packages"]["roc_auc"]
    out["family_recall_summary"] = out["family_recall_mean"]
    return out


FAMILY_SPLIT = (
    "malicious by family (validation families disjoint from every fitted model); "
    "benign by package: calibration held out of the index and of the combiner; "
    "verdicts per package (max over its scripts)"
)
TEMPORAL_SPLIT = (
    "malicious by date: fitted on samples added before the cut, less every family that "
    "has a sample after it; validated on every sample added at or after it. Benign by "
    "package, calibration held out of the index and the combiner. Verdicts per package. "
    "The shipped models are then fitted on every malicious sample (no malicious "
    "validation of their own); their threshold is calibrated the same way."
)


def train(
    benign: Sequence[TrainingDoc],
    malicious: Sequence[TrainingDoc],
    out_dir: Path,
    params: TrainParams,
    provenance: dict[str, Any],
    *,
    featurizer: Featurizer | None = None,
) -> Manifest:
    """Fit, calibrate, validate and write the models; returns the manifest.

    `params.split` decides the malicious validation: `temporal` fits once on
    what was added before `params.temporal_cut` (validated on what came
    after) and then fits the shipped models on everything; `family` holds
    out a seeded share of families, as the shipped models' only fit.
    `featurizer(script, priority)` re-analyses scripts once APIEM exists
    into (tokens, behaviour); it defaults to the analysis stage. Docs
    without a `script` keep their tokens (hand-built docs in tests; or
    `params.reanalyse=False`).
    """
    started = time.monotonic()
    timings: dict[str, float] = {}
    prefix = [""]

    def lap(name: str, since: float) -> float:
        now = time.monotonic()
        timings[prefix[0] + name] = round(now - since, 3)
        log.info("train: %s%s took %.1f s", prefix[0], name, now - since)
        return now

    _check_labels(benign, BENIGN)
    _check_labels(malicious, MALICIOUS)
    benign = sorted(benign, key=lambda d: d.id)
    malicious, clones = drop_benign_clones(sorted(malicious, key=lambda d: d.id), benign)
    provenance = {**provenance, "malicious_scripts_dropped_as_benign_clones": clones}
    rest, calib_docs = split_by_group(benign, params.calibration_fraction, params.seed)
    index_docs, fit_docs = split_by_group(rest, params.combiner_fraction, params.seed + 1)
    if not index_docs or not calib_docs or not fit_docs:
        raise ValueError(
            "need benign scripts from at least three packages (index, combiner, calibration)"
        )
    if params.split == "temporal":
        mal_fit, mal_val, counts = temporal_split(malicious, params.temporal_cut)
        if not mal_fit or not mal_val:
            raise ValueError(
                f"temporal split at {params.temporal_cut}: {counts['fit_scripts']} scripts to "
                f"fit and {counts['validation_scripts']} to validate; both must be non-empty"
            )
        prefix[0] = "temporal:"
        held = _fit(index_docs, fit_docs, calib_docs, mal_fit, mal_val, params, featurizer, lap)
        temporal = {**_validate(held, params, TEMPORAL_SPLIT), "counts": counts}
        del held
        prefix[0] = ""
        fit = _fit(index_docs, fit_docs, calib_docs, list(malicious), [], params, featurizer, lap)
        validation = {**_validate(fit, params, TEMPORAL_SPLIT), "temporal": temporal}
    else:
        mal_train, mal_val = split_by_group(malicious, params.validation_fraction, params.seed)
        fit = _fit(index_docs, fit_docs, calib_docs, mal_train, mal_val, params, featurizer, lap)
        validation = _validate(fit, params, FAMILY_SPLIT)
    threshold = float(validation["calibration"]["threshold"])
    t = lap("calibrate_validate", time.monotonic())

    out_dir.mkdir(parents=True, exist_ok=True)
    fit.apiem.save(out_dir / APIEM_MODEL, out_dir / APIEM_DIRECTION)
    fit.ccem.save(out_dir / CCEM_MODEL)
    fit.index.save(out_dir / CLUSTERER, out_dir / VECTORS)
    fit.combiner.save(out_dir / COMBINER)
    fit.rarity.save(out_dir / RARITY)
    hashes = {name: sha256_file(out_dir / name) for name in ARTIFACTS}
    lap("save", t)
    timings["total"] = round(time.monotonic() - started, 3)

    n_clusters = int(fit.index.clusterer_.labels_.max()) + 1
    rules = load_rules()
    manifest = Manifest(
        model_version=version_from_hashes(hashes),
        threshold=threshold,
        artifacts=hashes,
        params=params.to_dict(),
        provenance={
            **provenance,
            "counts": {
                "benign_index_scripts": len(fit.index_docs),
                "benign_index_vectors": fit.benign_kept,
                "benign_combiner_scripts": len(fit.fit_docs),
                "benign_calibration_scripts": len(fit.calib_docs),
                "benign_calibration_packages": len({d.package for d in fit.calib_docs}),
                "malicious_train_scripts": len(fit.mal_train),
                "malicious_reference_vectors": fit.mal_kept,
                "malicious_validation_scripts": len(fit.mal_val),
                "malicious_validation_packages": len({d.package for d in fit.mal_val}),
            },
            # The latest `added` date the shipped models were fitted on: `evaluate
            # --cut` says whether later samples it is given can be unseen.
            "malicious_added_through": max(
                (d.added for d in fit.mal_train if d.added is not None), default=None
            ),
        },
        validation=validation,
        scoring={
            "rank_mode": params.rank_mode,
            "definition": " ".join((RSCORE_DOC or "").split()),
            "combiner": (
                "gradient-boosted trees (sklearn HistGradientBoostingClassifier) over behaviour "
                "features (data/behaviours.toml), their rarity among benign index scripts "
                "(rarity.json) and RScore parts, monotone non-decreasing in every behaviour "
                "feature, rarity, RScore and its novelty inputs; family-weighted; malicious "
                "RScore parts two-fold by family"
            ),
            "features": list(combiner_feature_names()),
            "monotonic_constraints": dict(
                zip(
                    combiner_feature_names(),
                    monotonic_constraints(combiner_feature_names()),
                    strict=True,
                )
            ),
            "behaviour_categories": dict(rules.descriptions),
            "hdbscan_clusters": n_clusters,
            "hdbscan_noise_fraction": float((fit.index.clusterer_.labels_ < 0).mean()),
            "apiem_priority": (
                "cosine(api vector, mean malicious - mean benign doc vector), mapped to [0,1]"
            ),
            "timings_s": timings,
        },
    )
    manifest.write(out_dir)
    return manifest


def _top_benign(
    docs: Sequence[TrainingDoc], scores: Sequence[float], n: int = 10
) -> list[dict[str, Any]]:
    """The riskiest held-out benign packages and what fired: where false
    positives will come from, for review."""
    cats = load_rules().categories
    best: dict[str, tuple[float, TrainingDoc]] = {}
    for d, sc in zip(docs, scores, strict=True):
        if d.package not in best or sc > best[d.package][0]:
            best[d.package] = (sc, d)
    top = sorted(best.values(), key=lambda t: (-t[0], t[1].id))[:n]
    out = []
    for sc, d in top:
        values = dict(zip(combiner_feature_names(), d.behaviour, strict=False))
        out.append(
            {
                "script": d.id,
                "score": round(sc, 6),
                "behaviours": [c for c in cats if values.get(c, 0.0) > 0],
            }
        )
    return out


def _as_behaviour(doc: TrainingDoc) -> Any:
    from mphunter_gate.model.behaviour import Behaviour

    return Behaviour(values=doc.behaviour, fired=())
