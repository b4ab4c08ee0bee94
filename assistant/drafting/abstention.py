"""Calibrated abstention: answer, partial answer, or abstain, with the reason in French.

A logistic model estimates the probability that the retrieved passages answer the question from
signals that do not depend on one fusion's score scale (`Evidence`):
- coverage of the question's content terms: by the best of the first `COVERAGE_DEPTH`
  passages (with its title and section), by the best single sentence, by all passages together;
- the question's focus (`focus`): whether an on-subject sentence gives what is asked (a figure
  of the right kind, a date...), and whether something specific was asked and is missing;
- agreement of the lexical and dense lists (a passage high in both), and where the first
  passage sits in each;
- the shape of the scores (the first passage's lead over the second, relative to the spread
  of the first `k`), which holds for any score scale;
- the number of content terms of the question (coverage of a two-word question is coarse);
- the rarity of the question's terms in the corpus: terms no chunk holds, and rare terms no
  passage holds (the sources never speak of "biométhane": the question is not theirs).

The probability `p` gives the outcome: below `abstain_below`, abstain (the draft says whom to
ask); below `answer_from`, or when the question asks for a figure (or a date, a name) that no
on-subject sentence gives, a partial draft ("les sources consultées ne donnent pas ce chiffre ;
voici ce qu'elles disent sur le sujet"), flagged for the advisor; otherwise an answer. The
parameters are fitted by `calibration.fit_abstention` on pooled question sets and shipped in
`abstention.json`; a desk's own fit in GUICHET_HOME/abstention.json takes precedence.

Example:
    >>> from assistant.records import Chunk, Passage
    >>> p = Passage(Chunk("c1", "Le don de matériel est plafonné à 300 € par bien.", "/d.md", "Don"), 0.03, (), 1, 1)
    >>> decide(evidence([p], "plafond du don de matériel ?")).outcome
    'answer'
    >>> decide(evidence([p], "recette de la blanquette de veau ?")).outcome
    'abstain'
"""

from __future__ import annotations

import math
from dataclasses import astuple, dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Sequence

from assistant.drafting.focus import Focus, question_focus, satisfies
from assistant.drafting.selection import candidates, coverage, read_query
from assistant.drafting.terms import Rarity, question_terms, sentence_terms
from assistant.params import load_params
from assistant.records import Passage

#: Top passages in which the question's terms are looked for, one passage at a time.
COVERAGE_DEPTH = 3
#: Passages compared for the agreement of the two lists and the shape of the scores.
DEPTH = 5
#: An on-subject sentence holds at least this share of the question's terms.
ON_SUBJECT = 0.34
#: Rarity given to every term when the corpus statistics are not known.
NO_RARITY = 0.5
#: A term this rare is in no indexed chunk.
UNKNOWN = 0.999
#: Kinds of focus whose absence makes a draft partial.
SPECIFIC_FOCUS = frozenset({"date", "amount", "share", "duration", "figure", "who", "which"})

KIND, FORMAT = "abstention", 1
SHIPPED = Path(__file__).with_name("abstention.json")
OWN_FILE = "abstention.json"

OUTCOME_LABELS = {"answer": "réponse", "partial": "réponse partielle", "abstain": "abstention"}


@dataclass(frozen=True)
class Evidence:
    """The model's inputs for one question and its ranked passages (see the module docstring).

    Every field is a number in [0, 1] except `terms` (log of 1 + the number of content terms).
    The last three weigh the question's terms by their rarity in the corpus (`terms.rarities`):
    `unknown_terms` is the share of them no indexed chunk holds, `rare_coverage` the coverage of
    the best passage with rare terms counting more, `missing_rare` the rarity of the rarest term
    no passage holds (a specific word the sources never use: "biométhane", "PEMD").
    """

    coverage_passage: float
    coverage_sentence: float
    coverage_union: float
    focus_found: float
    focus_missing: float
    agreement: float
    lexical_top: float
    dense_top: float
    score_lead: float
    terms: float
    unknown_terms: float
    rare_coverage: float
    missing_rare: float
    passages: int = 0

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The model's feature names, in order (`passages` is not one: it is a guard)."""
        return tuple(f.name for f in fields(cls) if f.name != "passages")

    def vector(self) -> tuple[float, ...]:
        """The feature values in the order of `names()`."""
        return astuple(self)[:-1]


@dataclass(frozen=True)
class Model:
    """A fitted logistic model and its two thresholds on the probability.

    Args:
        features: Feature names, in the order of the weights.
        mean: Mean of each feature on the fitting questions (standardisation).
        scale: Standard deviation of each feature (standardisation).
        weights: Coefficient of each standardised feature.
        bias: Intercept.
        abstain_below: Abstain when the probability is below this.
        answer_from: Answer (rather than partial) from this probability on.
    """

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    abstain_below: float
    answer_from: float

    def probability(self, found: Evidence) -> float:
        """Probability that the passages answer the question."""
        values = dict(zip(Evidence.names(), found.vector()))
        z = self.bias + sum(w * (values[f] - m) / s for f, m, s, w in
                            zip(self.features, self.mean, self.scale, self.weights))
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))

    def to_params(self) -> dict:
        """The JSON-ready `params` of a parameter file."""
        return {"features": list(self.features), "mean": list(self.mean), "scale": list(self.scale),
                "weights": list(self.weights), "bias": self.bias,
                "abstain_below": self.abstain_below, "answer_from": self.answer_from}

    @classmethod
    def from_params(cls, params: dict) -> "Model":
        """The model of a parameter file's `params` (see `to_params`).

        Raises:
            ValueError: a missing key, lengths that differ, or an unknown feature.
        """
        try:
            model = cls(tuple(params["features"]), tuple(map(float, params["mean"])),
                        tuple(map(float, params["scale"])), tuple(map(float, params["weights"])),
                        float(params["bias"]), float(params["abstain_below"]), float(params["answer_from"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"abstention parameters are incomplete ({type(exc).__name__}: {exc})") from None
        sizes = {len(model.features), len(model.mean), len(model.scale), len(model.weights)}
        unknown = set(model.features) - set(Evidence.names())
        if len(sizes) != 1 or unknown or any(s <= 0 for s in model.scale):
            raise ValueError("abstention parameters do not match this version's features: refit with "
                             "'guichet calibrate' or delete the file")
        return model


@dataclass(frozen=True)
class Decision:
    """What a draft does: `outcome` (answer, partial or abstain), why, and the probability.

    `missing` names, for a partial draft, what the sources do not give ("ce chiffre").
    """

    outcome: str
    reason: str
    probability: float
    focus: Focus = Focus("open")
    missing: str = ""


def evidence(passages: Sequence[Passage], question: str, rarity: Rarity | None = None) -> Evidence:
    """The model's inputs for one question and its ranked passages.

    Args:
        passages: Retrieved passages, best first.
        question: The question as searched (after follow-up expansion).
        rarity: Rarity of terms in the indexed corpus; None = every term of middling rarity
            (0.5), which leaves the rarity features without information.

    Example:
        >>> from assistant.records import Chunk, Passage
        >>> p = Passage(Chunk("c1", "Le don est plafonné à 300 €.", "/d.md", "Don"), 0.03, (), 2, 4)
        >>> found = evidence([p], "don plafonné ?")
        >>> found.coverage_passage, found.agreement, found.focus_missing
        (1.0, 0.25, 0.0)
    """
    query = read_query(question, rarity)
    weights, total = query.weights, query.total
    own = [t for t, w in question_terms(question).items() if w >= 1.0]
    rare = {t: query.rarity.get(t, NO_RARITY) for t in own}
    unknown = sum(1 for t in own if rare[t] >= UNKNOWN) / len(own) if own else 0.0
    if not passages or not total:
        return Evidence(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, math.log1p(len(weights)),
                        round(unknown, 4), 0.0, 1.0 if own else 0.0, len(passages))
    top = passages[:DEPTH]
    focus = query.focus
    by_passage = [sentence_terms(p.chunk.index_text) for p in top]
    best_passage = max(coverage(weights, t, total) for t in by_passage[:COVERAGE_DEPTH])
    union = coverage(weights, frozenset().union(*by_passage), total)
    ranked = [c for c, _ in candidates(query, top)]
    best_sentence = max((c.coverage for c in ranked), default=0.0)
    on_subject = [c for c in ranked if c.coverage >= ON_SUBJECT]
    found_focus = any(satisfies(focus, c.text, question) for c in on_subject)
    missing = focus.kind in SPECIFIC_FOCUS and not found_focus
    joint = [max(p.lexical_rank, p.dense_rank) for p in top
             if p.lexical_rank is not None and p.dense_rank is not None]
    rare_total = sum(rare.values()) or 1.0
    rare_coverage = max(sum(rare[t] for t in own if _found(terms, t)) / rare_total for terms in by_passage[:COVERAGE_DEPTH])
    everywhere = frozenset().union(*by_passage)
    missing_rare = max((rare[t] for t in own if not _found(everywhere, t)), default=0.0)
    first = passages[0]
    return Evidence(
        coverage_passage=round(best_passage, 4), coverage_sentence=round(best_sentence, 4),
        coverage_union=round(union, 4), focus_found=float(found_focus), focus_missing=float(missing),
        agreement=round(1.0 / min(joint), 4) if joint else 0.0,
        lexical_top=round(1.0 / first.lexical_rank, 4) if first.lexical_rank else 0.0,
        dense_top=round(1.0 / first.dense_rank, 4) if first.dense_rank else 0.0,
        score_lead=round(_lead([p.score for p in top]), 4), terms=round(math.log1p(len(weights)), 4),
        unknown_terms=round(unknown, 4), rare_coverage=round(rare_coverage, 4), missing_rare=round(missing_rare, 4),
        passages=len(passages))


def _found(terms: frozenset[str], term: str) -> bool:
    return coverage({term: 1.0}, terms, 1.0) > 0


def _lead(scores: Sequence[float]) -> float:
    """(s1 - s2) / (s1 - s_last): the first passage's lead, whatever the scale; 0 for one passage."""
    if len(scores) < 2 or scores[0] - scores[-1] <= 0:
        return 0.0
    return max(0.0, min(1.0, (scores[0] - scores[1]) / (scores[0] - scores[-1])))


def decide(found: Evidence, model: "Model | None" = None, question: str = "") -> Decision:
    """The outcome for precomputed evidence, with its French reason.

    Args:
        found: `evidence(passages, question)`.
        model: The fitted model (default: `load_model()`, the shipped parameters).
        question: The question, to name what a partial draft lacks.

    Example:
        >>> decide(Evidence(0.1, 0.2, 0.1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.1, 0.5, 0.1, 1.0, 5)).reason[:15]
        'preuves faibles'
    """
    model = model or load_model()
    focus = question_focus(question) if question else Focus("open")
    if found.passages == 0:
        return Decision("abstain", "aucun passage trouvé", 0.0, focus)
    if found.coverage_sentence == 0.0:
        return Decision("abstain", "aucune phrase des passages ne traite de la question", 0.0, focus)
    p = model.probability(found)
    facts = (f"le meilleur passage couvre {_pct(found.coverage_passage)} des termes de la question, "
             f"la meilleure phrase {_pct(found.coverage_sentence)}"
             + (", les recherches lexicale et sémantique s'accordent" if found.agreement >= 0.2 else
                ", les recherches lexicale et sémantique ne s'accordent pas"))
    if p < model.abstain_below:
        return Decision("abstain", f"preuves faibles : probabilité de réponse {_pct(p)} (seuil "
                                   f"{_pct(model.abstain_below)}) ; {facts}", p, focus)
    if found.focus_missing:
        label = focus.label if focus.kind in SPECIFIC_FOCUS else "ce qui est demandé"
        return Decision("partial", f"réponse partielle : aucune phrase des sources ne donne {label} ; "
                                   f"probabilité de réponse {_pct(p)} ; {facts}", p, focus, label)
    if p < model.answer_from:
        return Decision("partial", f"réponse partielle : preuves moyennes, probabilité de réponse {_pct(p)} "
                                   f"(réponse à partir de {_pct(model.answer_from)}) ; {facts}", p, focus,
                        "de réponse complète")
    return Decision("answer", f"réponse : probabilité {_pct(p)} que les sources répondent ; {facts}", p, focus)


def _pct(share: float) -> str:
    """A share written the French way: 0.34 -> "34 %" (the reason is shown to French advisors)."""
    return f"{share * 100:.0f} %"


def load_model(home: Path | None = None) -> Model:
    """The abstention model: GUICHET_HOME's own fit when there is one, else the shipped one.

    Raises:
        ConfigError: the file is unreadable, of another kind or format, or its parameters do not
            match this version's features.
    """
    own = Path(home) / OWN_FILE if home is not None else None
    path = own if own is not None and own.exists() else SHIPPED
    return _load(str(path), path.stat().st_mtime if path.exists() else 0.0)


@lru_cache(maxsize=4)
def _load(path: str, _mtime: float) -> Model:
    from assistant.errors import ConfigError

    data = load_params(Path(path), KIND, FORMAT)
    try:
        return Model.from_params(data["params"])
    except ValueError as exc:
        raise ConfigError(f"{path}: {exc}") from None
