"""Family-disjoint splits."""

from __future__ import annotations

import pytest

from mphunter_gate.model import MALICIOUS, TrainingDoc
from mphunter_gate.model.split import split_by_group
from tests.model.synthetic import make_corpus


@pytest.mark.parametrize("seed", [0, 1, 2, 1337])
def test_no_family_on_both_sides(seed: int) -> None:
    _, malicious = make_corpus(seed=seed, n_mal_families=30)
    train, val = split_by_group(malicious, 0.3, seed)
    assert train and val
    assert {d.group for d in train}.isdisjoint({d.group for d in val})
    assert sorted(d.id for d in train + val) == sorted(d.id for d in malicious)


def test_split_is_stable_when_the_corpus_grows() -> None:
    _, small = make_corpus(seed=3, n_mal_families=20)
    _, more = make_corpus(seed=4, n_mal_families=40)
    renamed = [TrainingDoc(f"x{d.id}", d.tokens, f"new{d.family}", MALICIOUS) for d in more]
    _, val_small = split_by_group(small, 0.25, 9)
    _, val_grown = split_by_group(small + renamed, 0.25, 9)
    assert {d.group for d in val_small} <= {d.group for d in val_grown}


def test_docs_without_family_are_their_own_group() -> None:
    docs = [TrainingDoc(f"s{i}", ("a.b",), None, MALICIOUS) for i in range(50)]
    train, val = split_by_group(docs, 0.5, 0)
    assert train and val
    assert len({d.group for d in docs}) == 50


def test_both_sides_get_something_even_with_extreme_fractions() -> None:
    docs = [TrainingDoc(f"s{i}", ("a.b",), f"f{i}", MALICIOUS) for i in range(2)]
    for fraction in (0.001, 0.999):
        kept, held = split_by_group(docs, fraction, 5)
        assert len(kept) == 1 and len(held) == 1
