"""The crisis model's fitting, shared by bench/train_crisis_model.py and train_crisis_model_es.py.

Multinomial logistic regression over the features of `state.engine.safety.model` (a
vocabulary of the features seen in MIN_LINES or more training lines, meaning classes of the
locale's lexicon included), L2-regularised, full-batch Adam from zero weights for a fixed
number of steps: no randomness, so the same lines give the same weights.
"""

from __future__ import annotations

from collections import Counter
from functools import cache
from pathlib import Path

import numpy as np
import numpy.typing as npt
import yaml

from state.engine.safety.concepts import Concepts
from state.engine.safety.model import features, tokens

LEXICONS = Path(__file__).resolve().parent.parent / "tests" / "data" / "crisis" / "concepts"

MIN_LINES = 2  # a feature must be in this many training lines
L2 = 1e-4
STEPS = 300
RATE = 0.05
# Words from one meaning class to a later one that the model reads as an ordered pair.
# English: leaving one writing round out, 86.0 -> 86.8% caught, 71.4 -> 71.6% interrupted
# (bench/crisis_rounds.py --variant order); Spanish: no gain on its round 11 lines, and its
# detector has the least room in the turn's time, so none.
WINDOWS = {"en": 4, "es": 0}
Rows = list[tuple[str, str]]
Thresholds = tuple[float, float, float, float]  # ask, interrupt, calm, calm_long
Floats = npt.NDArray[np.float64]


def lexicon(locale: str, window: int | None = None) -> Concepts:
    """The meaning lexicon a locale's model is trained with (tests/data/crisis/concepts/),
    reading class order `window` words apart at most (0: not at all; None: the locale's
    WINDOWS)."""
    written = yaml.safe_load((LEXICONS / f"{locale}.yaml").read_text(encoding="utf-8"))
    return Concepts.from_mapping(written, tokens, WINDOWS.get(locale, 0) if window is None else window)


@cache
def line_features(text: str, concepts: Concepts) -> frozenset[str]:
    """The features of one line (kept: the folds train on the same lines again and again)."""
    return frozenset(features(tokens(text), concepts))


def vocabulary(rows: Rows, concepts: Concepts) -> list[str]:
    """The features found in MIN_LINES training lines or more, sorted."""
    counts: Counter[str] = Counter()
    for _, text in rows:
        counts.update(line_features(text, concepts))
    return sorted(f for f, n in counts.items() if n >= MIN_LINES)


def matrix(rows: Rows, index: dict[str, int],
           concepts: Concepts) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], Floats]:
    """The lines as a sparse matrix: (row of each entry, column of each entry, value)."""
    rr: list[int] = []
    cc: list[int] = []
    vv: list[float] = []
    for r, (_, text) in enumerate(rows):
        found = line_features(text, concepts)
        cols = sorted(i for f in found if (i := index.get(f)) is not None)
        if not cols:  # an emoji alone: no features, nothing to scale
            continue
        rr += [r] * len(cols)
        cc += cols
        vv += [1.0 / np.sqrt(len(found))] * len(cols)
    return np.array(rr, dtype=np.int64), np.array(cc, dtype=np.int64), np.array(vv)


def fit(rows: Rows, vocab: list[str], kinds: list[str], concepts: Concepts) -> tuple[Floats, Floats]:
    """Weights (features x kinds) and bias of the softmax regression, by full-batch Adam."""
    index = {f: i for i, f in enumerate(vocab)}
    rr, cc, vv = matrix(rows, index, concepts)
    y = np.zeros((len(rows), len(kinds)))
    y[np.arange(len(rows)), [kinds.index(label) for label, _ in rows]] = 1.0
    # The sparse products as sums over runs (np.add.reduceat), in a fixed order: the entries
    # come sorted by line; a stable sort by feature gives the runs of the gradient.
    line_runs = np.flatnonzero(np.r_[True, rr[1:] != rr[:-1]])
    lines = rr[line_runs]
    order = np.argsort(cc, kind="stable")
    by_feature = rr[order], cc[order], vv[order]
    feature_runs = np.flatnonzero(np.r_[True, by_feature[1][1:] != by_feature[1][:-1]])
    used = by_feature[1][feature_runs]
    w = np.zeros((len(vocab), len(kinds)))
    b = np.zeros(len(kinds))
    moments = [np.zeros_like(w), np.zeros_like(w), np.zeros_like(b), np.zeros_like(b)]
    for step in range(1, STEPS + 1):
        logits = np.zeros((len(rows), len(kinds)))
        logits[lines] = np.add.reduceat(w[cc] * vv[:, None], line_runs, axis=0)
        logits += b
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        g = (p - y) / len(rows)
        gw = np.zeros_like(w)
        gw[used] = np.add.reduceat(g[by_feature[0]] * by_feature[2][:, None], feature_runs, axis=0)
        gw += L2 * w
        pairs = ((w, gw, moments[0], moments[1]), (b, g.sum(axis=0), moments[2], moments[3]))
        for param, grad, m, v in pairs:
            m *= 0.9
            m += 0.1 * grad
            v *= 0.999
            v += 0.001 * grad * grad
            param -= RATE * (m / (1 - 0.9 ** step)) / (np.sqrt(v / (1 - 0.999 ** step)) + 1e-8)
    return w, b


def train(rows: Rows, concepts: Concepts) -> tuple[list[str], list[str], Floats, Floats]:
    """Vocabulary, kinds, weights and bias trained on `rows`."""
    kinds = sorted({label for label, _ in rows})
    vocab = vocabulary(rows, concepts)
    w, b = fit(rows, vocab, kinds, concepts)
    return vocab, kinds, w, b


def save(path: Path, vocab: list[str], kinds: list[str], w: Floats, b: Floats,
         thresholds: Thresholds, concepts: Concepts) -> None:
    """Write the model (float16 weights, and the lexicon it was trained with) as a
    compressed .npz without pickles."""
    np.savez_compressed(path, vocabulary=np.array(vocab), kinds=np.array(kinds),
                        weights=w.astype(np.float16), bias=b.astype(np.float16),
                        thresholds=np.array(thresholds, dtype=np.float64),
                        concepts=np.array(concepts.stored), window=np.array(concepts.window))
