"""Abstention: say "no reliable source" when the retrieved evidence is too weak to draft from.

The rule looks at three signals of the retrieved passages:
- coverage: the largest share of the question's content terms found in one of the top
  `COVERAGE_DEPTH` passages (title, section path and text; domain expansions count half);
- agreement: whether some passage sits in the top `AGREEMENT_DEPTH` of BOTH the lexical and the
  dense list (`Passage.lexical_rank` / `dense_rank`); two independent retrievers agreeing is the
  best sign that the corpus really speaks about the subject;
- the top fused score (its scale depends on the fusion settings, so its bar is off by default).

Abstain when there is no passage, when coverage < `MIN_COVERAGE`, when the top score is below
`MIN_TOP_SCORE`, or when no passage is in both lists' top `AGREEMENT_DEPTH` and coverage is below
the stricter `MIN_COVERAGE_WITHOUT_AGREEMENT`.

Calibration: the defaults below are set by hand on the shared dev set's questions read against
the corpus (off-topic questions share at most one content term with any passage; answerable
ones share two or more, typically half their terms); they must be re-fitted with
`assistant.drafting.calibration` (maximise abstention on unanswerable questions subject to at
most 10 % false abstentions on answerable ones) once the hybrid retriever exists.

Example:
    >>> from assistant.records import Chunk, Passage
    >>> p = Passage(Chunk("c1", "Le don de matériel est plafonné à 300 €.", "/d.md", "Don"), 0.03, (), 1, 1)
    >>> should_abstain([p], "plafond du don de matériel ?")
    (False, '')
    >>> should_abstain([p], "recette de la blanquette de veau ?")[0]
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from assistant.drafting.terms import question_terms, sentence_terms
from assistant.records import Passage

#: Top passages in which the question's terms are looked for.
COVERAGE_DEPTH = 3
#: Below this share of the question's terms in the best passage, abstain.
MIN_COVERAGE = 0.34
#: Stricter coverage bar when the lexical and dense lists do not agree on any passage.
MIN_COVERAGE_WITHOUT_AGREEMENT = 0.5
#: A passage "agrees" when it is in the top AGREEMENT_DEPTH of both lists.
AGREEMENT_DEPTH = 5
#: Minimum fused score of the first passage (0 = off: the scale depends on the fusion settings).
MIN_TOP_SCORE = 0.0


@dataclass(frozen=True)
class Thresholds:
    """The parameters of the abstention rule (see the module docstring).

    Example:
        >>> Thresholds(min_coverage=0.5).agreement_depth
        5
    """

    min_coverage: float = MIN_COVERAGE
    min_coverage_without_agreement: float = MIN_COVERAGE_WITHOUT_AGREEMENT
    agreement_depth: int = AGREEMENT_DEPTH
    min_top_score: float = MIN_TOP_SCORE


@dataclass(frozen=True)
class Evidence:
    """What the rule looks at, computed once per question (and stored for calibration).

    Args:
        passages: Number of passages retrieved.
        top_score: Fused score of the first passage (0 without passages).
        coverage: Best share of the question's terms in one top passage, in [0, 1].
        joint_rank: Smallest max(lexical_rank, dense_rank) over the passages; a large number
            when no passage is in both lists.
    """

    passages: int
    top_score: float
    coverage: float
    joint_rank: int


#: joint_rank of a question none of whose passages is in both lists.
NO_AGREEMENT = 10**6


def evidence(passages: Sequence[Passage], question: str) -> Evidence:
    """The rule's inputs for one question and its ranked passages.

    Example:
        >>> from assistant.records import Chunk, Passage
        >>> p = Passage(Chunk("c1", "Le don est plafonné à 300 €.", "/d.md", "Don"), 0.03, (), 2, 4)
        >>> evidence([p], "don plafonné ?")
        Evidence(passages=1, top_score=0.03, coverage=1.0, joint_rank=4)
    """
    if not passages:
        return Evidence(0, 0.0, 0.0, NO_AGREEMENT)
    terms = question_terms(question)
    own = sum(w for w in terms.values() if w >= 1.0) or sum(terms.values())
    coverage = 0.0
    if own:
        for passage in passages[:COVERAGE_DEPTH]:
            found = sentence_terms(passage.chunk.index_text)
            coverage = max(coverage, min(1.0, sum(w for t, w in terms.items() if t in found) / own))
    joint = [max(p.lexical_rank, p.dense_rank) for p in passages
             if p.lexical_rank is not None and p.dense_rank is not None]
    return Evidence(len(passages), float(passages[0].score), round(coverage, 4), min(joint, default=NO_AGREEMENT))


def decide(found: Evidence, thresholds: Thresholds = Thresholds()) -> tuple[bool, str]:
    """Apply the rule to precomputed evidence: (abstain, reason); the reason is "" when not.

    Example:
        >>> decide(Evidence(5, 0.03, 0.2, 1))
        (True, 'preuves faibles : le meilleur passage couvre 20 % des termes de la question (minimum 34 %)')
    """
    if found.passages == 0:
        return True, "aucun passage trouvé"
    if found.top_score < thresholds.min_top_score:
        return True, (f"preuves faibles : meilleur score {found.top_score:.4f}, sous le seuil "
                      f"{thresholds.min_top_score:.4f}")
    if found.coverage < thresholds.min_coverage:
        return True, (f"preuves faibles : le meilleur passage couvre {_pct(found.coverage)} des termes de "
                      f"la question (minimum {_pct(thresholds.min_coverage)})")
    agree = found.joint_rank <= thresholds.agreement_depth
    if not agree and found.coverage < thresholds.min_coverage_without_agreement:
        return True, (f"preuves faibles : aucun passage dans les {thresholds.agreement_depth} premiers des "
                      f"deux recherches (lexicale et sémantique), et le meilleur passage couvre "
                      f"{_pct(found.coverage)} des termes de la question (minimum "
                      f"{_pct(thresholds.min_coverage_without_agreement)} sans accord)")
    return False, ""


def _pct(share: float) -> str:
    """A share written the French way: 0.34 -> "34 %" (the reason is shown to French advisors)."""
    return f"{share * 100:.0f} %"


def should_abstain(passages: Sequence[Passage], question: str,
                   thresholds: Thresholds = Thresholds()) -> tuple[bool, str]:
    """Whether the passages are too weak to draft an answer from, and why.

    Args:
        passages: Retrieved passages, best first.
        question: The question as searched (after follow-up expansion).
        thresholds: The rule's parameters (default: the calibrated module constants).

    Returns:
        (True, reason) to abstain, else (False, "").
    """
    return decide(evidence(passages, question), thresholds)
