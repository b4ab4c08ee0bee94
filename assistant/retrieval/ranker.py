"""Second stage: a learned linear ranker over the union of the lexical and dense candidates.

A fusion of two scores sees only where each list put a chunk. The ranker also looks at the pair
(question, chunk) itself: how much of the question's vocabulary the chunk holds, and how close
together; its best window's similarity to the question, not only its mean vector's; what the
chunk's document scores elsewhere among the candidates; whether the question asks for a figure
or a share and the chunk holds one; whether it is a questionnaire (a list of questions to
suppliers matches a buyer's question well and answers it badly). Each feature is a number per candidate
(`features`); the score is a weighted sum of the standardised features, with weights fitted on
question sets (`fit`) and shipped in `ranker.json` beside this module. The document kind is not a
feature: whether a validated past answer should come before a guide is the desk's choice
(`answer_boost`), not something to learn from question sets written from guides.

Example:
    >>> ranker = LinearRanker.load(SHIPPED)                               # doctest: +SKIP
    >>> scores = ranker.scores(features(query, candidates, index.idf))    # doctest: +SKIP
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np

from assistant.errors import ConfigError
from assistant.params import load_params, save_params
from assistant.records import Chunk

#: Format of the parameter file; bump when FEATURES or their meaning change.
FORMAT = 1
KIND = "ranker"
SHIPPED = Path(__file__).with_name("ranker.json")
#: Name of a desk's own parameters in GUICHET_HOME, written by `guichet tune`.
TUNED = "ranker.json"


class RankerMode(StrEnum):
    """The second stage of hybrid search (the `GUICHET_RANKER` setting)."""

    LEARNED = "learned"  # the fitted linear ranker over the union of both candidate lists
    FUSION = "fusion"    # the fusion of the two lists alone


MODES = tuple(RankerMode)

#: Query terms further apart than this many tokens do not count as found together.
WINDOW_TOKENS = 30

FEATURES = (
    "bm25_rel",      # BM25 / best BM25 among the candidates
    "lexical_rank",  # log of the rank in the lexical list (absent: log of twice its length)
    "dense_rank",    # log of the rank in the dense list (likewise)
    "coverage",      # share of the idf of the question's own words found in the chunk
    "coverage_all",  # the same with domain expansions and completions, at their weights
    "words_found",   # share of the question's own words found (unweighted)
    "rare_found",    # share of the squared idf: the rare words of the question found
    "best_idf",      # idf of the rarest question word found / of the rarest asked
    "window",        # best coverage_all within WINDOW_TOKENS consecutive tokens
    "best_cosine",   # cosine of the question and the chunk's best window
    "window_gap",    # best_cosine - the best one among the candidates
    "doc_bm25",      # best bm25_rel of another chunk of the same file among the candidates
    "doc_cosine",    # best window_gap of another chunk of the same file
    "doc_chunks",    # log(1 + other chunks of the same file among the candidates)
    "questions",     # question marks per sentence of the chunk (questionnaires)
    "letters",       # share of letters in the chunk text (tables, codes and figures score low)
    "figure",        # 1 when the question asks for a number and the chunk holds one
    "share",         # 1 when the question asks for a share and the chunk holds a "%"
)


@dataclass(frozen=True)
class Query:
    """What the features need of a question.

    Args:
        terms: Weighted query tokens: 1.0 for the question's own words, less for expansions.
        vector: The question's embedding.
        figure: The question asks for a number (`query.asks_figure`).
        share: The question asks for a share (`query.asks_share`).
    """

    terms: Mapping[str, float]
    vector: np.ndarray
    figure: bool = False
    share: bool = False


@dataclass(frozen=True)
class Profile:
    """The features of a chunk that do not depend on the question (computed once per chunk).

    Args:
        positions: Where each of its tokens occurs (0-based token positions).
        questions: Question marks per sentence.
        letters: Share of letters in its text.
        digits: Whether a token holds a digit.
        percent: Whether its text holds a "%".
    """

    positions: Mapping[str, tuple[int, ...]]
    questions: float
    letters: float
    digits: bool
    percent: bool


_NOT_LETTERS = re.compile(r"[\W\d_]+")


def profile(chunk: Chunk, tokens: Sequence[str]) -> Profile:
    """The question-independent features of a chunk, from its text and analysed tokens.

    Example:
        >>> p = profile(Chunk("c", "Quel label ? Aucun.", "/g.md", "Labels"), ["label"])
        >>> p.positions, p.questions, p.digits
        ({'label': (0,)}, 0.5, False)
    """
    text = chunk.text
    sentences = sum(text.count(mark) for mark in ".?!\n") or 1
    positions: dict[str, list[int]] = {}
    for i, token in enumerate(tokens):
        positions.setdefault(token, []).append(i)
    return Profile({t: tuple(p) for t, p in positions.items()}, text.count("?") / sentences,
                   len(_NOT_LETTERS.sub("", text)) / max(1, len(text)),
                   any(t[:1].isdigit() for t in tokens), "%" in text)


@dataclass(frozen=True)
class Candidate:
    """A chunk of the first stage with what the features read.

    Args:
        chunk: The chunk.
        profile: Its question-independent features (`profile` of its analysed tokens).
        bm25: Its BM25 score for the question (0 when no query token is in it).
        lexical_rank: 1-based rank in the lexical list, None when not in it.
        dense_rank: 1-based rank in the dense list, None when not in it.
        windows: Its window vectors, one per row (none when the vector store lost them).
    """

    chunk: Chunk
    profile: Profile
    bm25: float
    lexical_rank: int | None
    dense_rank: int | None
    windows: np.ndarray


def features(query: Query, candidates: Sequence[Candidate], idf: Callable[[str], float],
             depth: int) -> np.ndarray:
    """The (candidates, FEATURES) matrix of one question.

    Args:
        query: The question.
        candidates: Its first-stage candidates.
        idf: Inverse document frequency of a token in the index.
        depth: Length of each first-stage list (an absent rank counts as 2 * depth).

    Example:
        >>> features(query, candidates, index.idf, depth=100).shape        # doctest: +SKIP
        (143, 18)
    """
    if not candidates:
        return np.zeros((0, len(FEATURES)))
    weights = {t: w * idf(t) for t, w in query.terms.items()}
    own = {t: idf(t) for t, w in query.terms.items() if w >= 1.0}
    own_total = sum(own.values()) or 1.0
    own_squares = sum(v * v for v in own.values()) or 1.0
    rarest = max(own.values(), default=0.0) or 1.0
    all_total = sum(weights.values()) or 1.0
    absent = math.log(2 * depth)
    rows = []
    for c in candidates:
        positions = {t: c.profile.positions[t] for t in weights if t in c.profile.positions}
        found_own = [t for t in own if t in positions]
        rows.append([
            c.bm25,
            math.log(c.lexical_rank) if c.lexical_rank else absent,
            math.log(c.dense_rank) if c.dense_rank else absent,
            sum(own[t] for t in found_own) / own_total,
            sum(weights[t] for t in positions) / all_total,
            len(found_own) / max(1, len(own)),
            sum(own[t] ** 2 for t in found_own) / own_squares,
            max((own[t] for t in found_own), default=0.0) / rarest,
            _best_window(positions, weights) / all_total,
            float((c.windows @ query.vector).max()) if len(c.windows) else 0.0,  # lost vectors
            0.0, 0.0, 0.0, 0.0,
            c.profile.questions,
            c.profile.letters,
            float(query.figure and c.profile.digits),
            float(query.share and c.profile.percent),
        ])
    x = np.asarray(rows, dtype=np.float64)
    col = {name: i for i, name in enumerate(FEATURES)}
    x[:, col["bm25_rel"]] /= x[:, col["bm25_rel"]].max() or 1.0
    x[:, col["window_gap"]] = x[:, col["best_cosine"]] - x[:, col["best_cosine"]].max()
    by_file: dict[str, list[int]] = {}
    for i, c in enumerate(candidates):
        by_file.setdefault(c.chunk.source, []).append(i)
    for members in by_file.values():
        rows_ = np.asarray(members)
        x[rows_, col["doc_bm25"]] = _best_of_others(x[rows_, col["bm25_rel"]], 0.0)
        x[rows_, col["doc_cosine"]] = _best_of_others(x[rows_, col["window_gap"]], -0.2)
        x[rows_, col["doc_chunks"]] = math.log1p(len(members) - 1)
    return x


def _best_of_others(values: np.ndarray, alone: float) -> np.ndarray:
    """For each value, the largest of the others (`alone` when there is no other).

    Example:
        >>> _best_of_others(np.array([3.0, 1.0, 2.0]), 0.0).tolist()
        [2.0, 3.0, 3.0]
    """
    if len(values) < 2:
        return np.full(len(values), alone)
    order = np.argsort(-values, kind="stable")
    best = np.full(len(values), values[order[0]])
    best[order[0]] = values[order[1]]
    return best


def _best_window(positions: Mapping[str, Sequence[int]], weights: Mapping[str, float]) -> float:
    """Largest total weight of distinct query tokens found within WINDOW_TOKENS tokens."""
    hits = sorted((p, t) for t, ps in positions.items() for p in ps)
    best = 0.0
    for a in range(len(hits)):
        seen: dict[str, float] = {}
        for b in range(a, len(hits)):
            if hits[b][0] - hits[a][0] >= WINDOW_TOKENS:
                break
            seen[hits[b][1]] = weights[hits[b][1]]
        best = max(best, sum(seen.values()))
    return best


class LinearRanker:
    """Scores candidates by a weighted sum of their standardised features.

    Args:
        weights: One weight per feature of FEATURES.
        mean: Mean of each feature over the candidates it was fitted on.
        scale: Standard deviation of each feature (> 0).
        fitted: How it was fitted (sets, sizes, out-of-fold metrics), kept in its file.

    Raises:
        ConfigError: vectors of another length than FEATURES.

    Example:
        >>> r = LinearRanker([1.0] + [0.0] * (len(FEATURES) - 1), [0.0] * len(FEATURES), [1.0] * len(FEATURES))
        >>> r.scores(np.eye(len(FEATURES))[:2]).tolist()
        [1.0, 0.0]
    """

    def __init__(self, weights: Sequence[float], mean: Sequence[float], scale: Sequence[float],
                 fitted: Mapping[str, object] | None = None) -> None:
        self.weights, self.mean, self.scale = (np.asarray(v, dtype=np.float64) for v in (weights, mean, scale))
        if not all(len(v) == len(FEATURES) for v in (self.weights, self.mean, self.scale)):
            raise ConfigError(f"ranker parameters must have {len(FEATURES)} values per vector, got "
                              f"{len(self.weights)}/{len(self.mean)}/{len(self.scale)}: refit with 'guichet tune'")
        if not np.all(np.isfinite(self.weights)) or np.any(self.scale <= 0):
            raise ConfigError("ranker parameters hold non-finite weights or non-positive scales: "
                              "refit with 'guichet tune' or delete the file")
        self.fitted = dict(fitted or {})

    def scores(self, x: np.ndarray) -> np.ndarray:
        """One score per row of a `features` matrix, higher is better."""
        return ((np.asarray(x) - self.mean) / self.scale) @ self.weights

    @classmethod
    def load(cls, path: Path) -> "LinearRanker":
        """The ranker of a parameter file.

        Raises:
            ConfigError: the file is missing, unreadable, of another format, or its features
                are not this version's.
        """
        data = load_params(path, KIND, FORMAT)
        params = data["params"]
        if list(params.get("features", [])) != list(FEATURES):
            raise ConfigError(f"ranker parameters {path} were fitted on other features: refit with "
                              "'guichet tune' or delete the file")
        try:
            return cls(params["weights"], params["mean"], params["scale"], data.get("fitted"))
        except (KeyError, TypeError, ValueError):
            raise ConfigError(f"ranker parameters {path} lack weights, mean or scale: refit with "
                              "'guichet tune' or delete the file") from None

    def save(self, path: Path) -> None:
        save_params(path, KIND, FORMAT, {"features": list(FEATURES), "weights": self.weights.tolist(),
                                         "mean": self.mean.tolist(), "scale": self.scale.tolist()},
                    self.fitted)


def ranker_path(home: Path, params: Path | None = None) -> Path:
    """The parameter file to read: `params` when given, else a tuned one in `home` (GUICHET_HOME),
    else the shipped one."""
    if params:
        return Path(params)
    tuned = Path(home) / TUNED
    return tuned if tuned.exists() else SHIPPED


def load_ranker(mode: RankerMode | str, path: Path) -> "LinearRanker | None":
    """The learned ranker of the parameter file `path`, or None when `mode` is "fusion".

    Raises:
        ConfigError: an unknown mode, or a bad parameter file.
    """
    if mode not in MODES:
        raise ConfigError(f"unknown GUICHET_RANKER {mode!r}: choose one of {', '.join(MODES)}")
    return LinearRanker.load(path) if mode == RankerMode.LEARNED else None



def fit(x: np.ndarray, relevant: np.ndarray, query: np.ndarray, l2: float = 1.0,
        fitted: Mapping[str, object] | None = None) -> LinearRanker:
    """Fit the weights by softmax cross-entropy over each question's candidates.

    The loss of a question is -log(share of the softmax mass on its relevant candidates), so
    what is learnt is the order within a question, whatever the scale of its scores.

    Args:
        x: (candidates, FEATURES) features of every question's candidates, stacked.
        relevant: 1 for a relevant candidate, else 0.
        query: The question number of each row.
        l2: Weight of the L2 penalty on the standardised weights.
        fitted: Report kept with the ranker.

    Raises:
        ValueError: mismatched lengths, or no question with a relevant candidate.
    """
    from scipy.optimize import minimize

    x, relevant, query = np.asarray(x, dtype=np.float64), np.asarray(relevant) > 0, np.asarray(query)
    if not len(x) == len(relevant) == len(query):
        raise ValueError(f"{len(x)} rows, {len(relevant)} labels and {len(query)} question numbers")
    groups = [rows for rows in (np.flatnonzero(query == q) for q in np.unique(query)) if relevant[rows].any()]
    if not groups:
        raise ValueError("no question has a relevant candidate: nothing to learn from")
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = (x - mean) / scale

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        s = z @ w
        total, grad = 0.5 * l2 * float(w @ w), l2 * w
        for rows in groups:
            e = np.exp(s[rows] - s[rows].max())
            pos = relevant[rows]
            total += math.log(e.sum()) - math.log(e[pos].sum())
            grad = grad + z[rows].T @ (e / e.sum() - e * pos / e[pos].sum())
        return total, grad

    result = minimize(loss, np.zeros(z.shape[1]), jac=True, method="L-BFGS-B")
    return LinearRanker(result.x, mean, scale, fitted)
