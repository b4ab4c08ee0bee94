"""Pick and order the few sentences of the passages that best answer a question. Pure functions.

Answer first: every whole sentence of every passage is scored by how well it answers, and the
draft quotes the best ones best first (at most `MAX_BULLETS`). A sentence's score adds
- its coverage of the question's content terms (the French analyser's stems; domain expansions
  and numbers the question gives count less; a clipped word such as "recond" matches the words
  it starts), and, at a third of the weight, the terms its passage's title and section add;
- a bonus when it gives what the question asks for (`focus`: a figure of the right kind, a
  date, a yes or no, a name, a definition, a list);
- a small bonus for the rank of its passage.

A sentence is quoted only if it is whole (`sentences.cut_reason`: no table row, no list intro
ending in ":", no fragment), not a question, not an order to an assistant (prompt injection),
not the question line of a past answer, and on the subject (it holds at least `MIN_OVERLAP` of
the question's terms). After the first, a sentence must score at least `RELATIVE_FLOOR` of the
best. The same fact is quoted once: a sentence whose terms are mostly in an already quoted one
(the same text in a PDF and its web page) is skipped. A sentence that starts by pointing back
("Il", "Cette", "En effet"...) brings the sentence before it along, just before it.

Example:
    >>> from assistant.records import Chunk, Passage
    >>> text = ("Le don de matériel se fait par convention. Le plafond est de 300 € par bien donné. "
    ...         "Une attestation suffit.")
    >>> picked = select_sentences("plafond d'un don ?", [Passage(Chunk("c1", text, "/d.md", "Don"), 1.0)])
    >>> [p.text for p in picked]
    ['Le plafond est de 300 € par bien donné.']
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping, Sequence

from assistant.drafting.focus import Focus, question_focus, satisfies
from assistant.drafting.injection import looks_like_instruction
from assistant.drafting.render import display
from assistant.text.sentences import cut_reason, sentence_spans
from assistant.drafting.terms import MIN_PREFIX, Rarity, question_terms, sentence_terms
from assistant.records import Chunk, Passage
from assistant.text.normalize import fold

MAX_BULLETS = 4
#: After the first, a sentence is quoted only if its score is at least this share of the best.
RELATIVE_FLOOR = 0.6
#: With its context, a quoted sentence holds at least this share of the question's terms (and
#: one of them itself, not only a quantity the question gives, unless it points back to the
#: sentence before).
MIN_OVERLAP = 0.2
#: Weight of the question terms a sentence lacks but its context has (the sentence before it,
#: its passage's title and section path); more for a sentence that points back ("Celui-ci").
CONTEXT_WEIGHT, ANAPHORA_CONTEXT_WEIGHT = 0.33, 0.7
RANK_BONUS = 0.2
#: Bonus of a sentence that gives what the question asks for (a figure, a date...).
FOCUS_BONUS = 0.3
#: Weaker bonus for forms most sentences have (a yes/no, a list, a definition).
WEAK_FOCUS_BONUS = 0.1
#: Weight of a quantity the question gives ("300 agents"): it situates, it is not the subject.
NUMBER_WEIGHT = 0.5
#: Two sentences state the same fact when this share of the shorter one's terms is in the other.
DUPLICATE_CONTAINMENT = 0.7
#: A long PDF run-on reads badly as a quote: its score is multiplied by `LONG_FACTOR`.
LONG_CHARS, LONG_FACTOR = 450, 0.85
#: A list item or a line without final punctuation is whole but often a label or a link's title.
UNPUNCTUATED = 0.8
MIN_CHARS, MAX_CHARS, MIN_WORDS = 25, 700, 5

_ANAPHORA = re.compile(r"^(?:il|elle|ils|elles|ce|cet|cette|ces|cela|ceci|celui|celle|ceux|celles|"
                       r"son|sa|ses|leur|leurs|en effet|ainsi|de plus|par ailleurs|toutefois|"
                       r"cependant|mais|or|donc|dans ce cas|a cet effet)\b")
#: Past answers are indexed as "Question : ...\n\nRéponse : ...": only the answer is quoted.
_ANSWER_LABEL = re.compile(r"(?:^|\n)\s*R[ée]ponse\s*:\s*", re.IGNORECASE)
_QUANTITY = re.compile(r"\d[\d  .,]*(?:\s*(?:%|€|[^\W\d_]+))?")
_FOOTNOTE = re.compile(r"\d{1,3} [A-ZÀ-Ý][a-zà-ÿ]")
_GLOSSARY = re.compile(r"\b[A-Z][A-Z0-9]+\s*:\s")
_URL = re.compile(r"https?://\S+|www\.\S+")
_PAGE_NUMBER = re.compile(r"\d{1,3}[ \t]*\n")
_FINAL = re.compile(r"[.!?…][\s»\"”’')\]]*$")
_STRONG_FOCUS = frozenset({"date", "amount", "share", "duration", "figure", "who", "ask"})


@dataclass(frozen=True)
class Selected:
    """A sentence picked for the draft.

    Args:
        passage: Index of its passage in the list given to the generator.
        start: Offset of the sentence in the chunk text.
        text: The sentence, verbatim from the chunk.
        score: Its score (a context sentence brought along gets 0).
        coverage: Its share of the question's terms.
        focused: Whether it gives what the question asks for.
    """

    passage: int
    start: int
    text: str
    score: float
    coverage: float = 0.0
    focused: bool = False


@dataclass(frozen=True)
class Query:
    """A question as drafting reads it: its terms and their weights, and its focus.

    Args:
        text: The question (after follow-up expansion).
        weights: Term -> weight: own words 1, domain expansions less, quantities the question
            gives ("300 agents") `NUMBER_WEIGHT` of that (they situate the question, they are
            not its subject). (Weighing terms by their rarity in the corpus was measured too: it
            helped the validation set's answer-first share by 0.02 and cost the dev,
            paraphrase and sample sets 0.02 to 0.05, so coverage counts every word alike.)
        total: Weight of the question's own terms: coverage's denominator (found expansions
            still add to the numerator, so "ordi" is covered by "ordinateur").
        given: Stems of the quantities the question gives.
        focus: What the question asks for.
        rarity: Term -> rarity in the corpus (empty when unknown), for the abstention model.
    """

    text: str
    weights: Mapping[str, float]
    total: float
    given: frozenset[str]
    focus: Focus
    rarity: Mapping[str, float] = field(default_factory=dict)


def read_query(question: str, rarity: Rarity | None = None) -> Query:
    """The `Query` of a question, with the rarity of its terms in the corpus when given.

    Example:
        >>> q = read_query("300 agents, combien ?")
        >>> dict(q.weights), q.total, q.focus.kind
        ({'300': 0.5, 'agent': 0.5}, 1.0, 'figure')
    """
    given = _given_quantities(question)
    terms = question_terms(question)
    rare = dict(rarity(list(terms))) if rarity is not None and terms else {}
    weights = {t: w * (NUMBER_WEIGHT if t in given else 1.0) for t, w in terms.items()}
    total = sum(weights[t] for t, w in terms.items() if w >= 1.0)
    return Query(question, weights, total, given, question_focus(question), rare)


def select_sentences(question: str, passages: Sequence[Passage], limit: int = MAX_BULLETS) -> list[Selected]:
    """The sentences to quote, best answer first.

    Args:
        question: The question (after follow-up expansion).
        passages: Retrieved passages, best first.
        limit: Most sentences to return.

    Returns:
        Up to `limit` sentences; empty when no whole sentence is on the subject.
    """
    if limit <= 0:
        raise ValueError(f"limit must be > 0, got {limit}")
    ranked = candidates(read_query(question), passages)
    picked: list[tuple[Selected, frozenset[str]]] = []
    for candidate, terms in ranked:
        if len(picked) >= limit:
            break
        if picked and candidate.score < RELATIVE_FLOOR * picked[0][0].score:
            break
        if any(_same_fact(terms, other) for _, other in picked):
            continue
        picked.append((candidate, terms))
    return _with_context([c for c, _ in picked], passages, limit)


def candidates(query: Query, passages: Sequence[Passage]) -> list[tuple[Selected, frozenset[str]]]:
    """Every quotable, on-subject sentence of the passages with its terms, best score first.

    Example:
        >>> from assistant.records import Chunk, Passage
        >>> p = Passage(Chunk("c1", "Hors sujet complet ici. Le don est plafonné à 300 €.", "/d.md", "D"), 1.0)
        >>> [c.text for c, _ in candidates(read_query("plafond du don ?"), [p])]
        ['Le don est plafonné à 300 €.']
    """
    if not query.total:
        return []
    found = [c for rank, passage in enumerate(passages) for c in _scored(rank, passage.chunk, query)]
    found.sort(key=lambda c: (-c[0].score, c[0].passage, c[0].start))
    return found


def _given_quantities(question: str) -> frozenset[str]:
    """Stems of the numbers of the question and of the word right after each ("300 agents")."""
    found: set[str] = set()
    for match in _QUANTITY.finditer(question):
        found |= sentence_terms(match.group(0))
    return frozenset(found)


def coverage(weights: Mapping[str, float], terms: frozenset[str], total: float) -> float:
    """The weighted share of the question's terms found in `terms` (clipped words match prefixes),
    over `total` (`own_weight`), at most 1.

    Example:
        >>> round(coverage({"recond": 1.0, "pc": 1.0}, frozenset({"recondition"}), 2.0), 2)
        0.5
    """
    if not total:
        return 0.0
    hit = sum(w for t, w in weights.items() if _has(terms, t))
    return min(1.0, hit / total)


def quotable_spans(chunk: Chunk, questions: bool = False) -> list[tuple[int, int]]:
    """(start, end) of the chunk's sentences a draft may quote: whole (`cut_reason`), not cut by
    chunking at either end, not a layout blob (table cells or columns read line by line), and
    for a past answer, in its answer (never its question line).

    Example:
        >>> c = Chunk("a1", "Question : c quoi le plafond ?\\n\\nRéponse : Le plafond est de 300 € par bien.",
        ...           "/r.yaml", "c quoi le plafond ?", "answer")
        >>> [c.text[a:b] for a, b in quotable_spans(c)]
        ['Le plafond est de 300 € par bien.']
    """
    text = chunk.text
    begin = 0
    if chunk.kind == "answer":
        label = _ANSWER_LABEL.search(text)
        begin = label.end() if label else 0
    whole_record = chunk.kind in ("answer", "resource")
    found = _with_lists(text, [(a + begin, b + begin) for a, b in sentence_spans(text[begin:])])
    spans = []
    for i, (start, end) in enumerate(found):
        if i == len(found) - 1 and not whole_record and not _FINAL.search(text[start:end]):
            continue  # the chunk ends at a line break, maybe in the middle of a sentence
        page_number = _PAGE_NUMBER.match(text, start, end)
        if page_number:  # a PDF page number or running header line glued to the sentence
            start = page_number.end()
        sentence = text[start:end]
        if cut_reason(sentence) is None and _quotable(sentence, questions):
            spans.append((start, end))
    return spans


def _with_lists(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The spans, where a sentence introducing a list (ending with ":") is joined with its items
    up to the one that ends the sentence (".", "!", "?"): in French a list is one sentence. The
    joined span is kept only while it stays under `MAX_CHARS`; the items also stay on their own.

    Example:
        >>> text = "Le décret fixe deux paliers :\\n- 20 % en 2024 ;\\n- 30 % en 2030.\\nFin du texte ici."
        >>> [text[a:b] for a, b in _with_lists(text, sentence_spans(text))][0]
        'Le décret fixe deux paliers :\\n- 20 % en 2024 ;\\n- 30 % en 2030.'
    """
    out = []
    for i, (start, end) in enumerate(spans):
        if text[start:end].rstrip().endswith(":"):
            for _, item_end in spans[i + 1:]:
                if item_end - start > MAX_CHARS:
                    break
                if _FINAL.search(text[start:item_end]):
                    out.append((start, item_end))
                    break
                if not text[start:item_end].rstrip().endswith(";"):
                    break
        out.append((start, end))
    return out


def _scored(rank: int, chunk: Chunk, query: Query):
    weights, total, focus, question = query.weights, query.total, query.focus, query.text
    heading = sentence_terms(chunk.heading) if chunk.kind != "answer" else frozenset()
    every = sentence_spans(chunk.text)
    for start, end in quotable_spans(chunk, questions=focus.kind == "ask"):
        sentence = chunk.text[start:end]
        terms = sentence_terms(display(sentence))
        earlier = [chunk.text[a:b] for a, b in every if b <= start]
        before = sentence_terms(display(earlier[-1])) if earlier else frozenset()
        own = coverage(weights, terms, total)
        points_back = bool(_ANAPHORA.match(fold(sentence.lower())))
        context = coverage(weights, terms | heading | before, total) - own
        focused = satisfies(focus, sentence, question)
        subject = any(_has(terms, t) for t in weights if t not in query.given)
        if own + context < MIN_OVERLAP or not (subject or points_back):
            continue
        bonus = (FOCUS_BONUS if focus.kind in _STRONG_FOCUS else WEAK_FOCUS_BONUS) if focused else 0.0
        weight = ANAPHORA_CONTEXT_WEIGHT if points_back else CONTEXT_WEIGHT
        score = own + weight * context + bonus + RANK_BONUS / (1 + rank)
        if len(sentence) > LONG_CHARS:
            score *= LONG_FACTOR
        if not _FINAL.search(sentence):
            score *= UNPUNCTUATED
        yield Selected(rank, start, sentence, round(score, 6), round(own, 4), focused), terms


def _has(terms: frozenset[str], term: str) -> bool:
    if term in terms:
        return True
    return len(term) >= MIN_PREFIX and term.isalpha() and any(t.startswith(term) for t in terms)


def _quotable(sentence: str, questions: bool = False) -> bool:
    """Long enough, not too long, not a layout blob, not an order to an assistant, and not a
    question unless `questions` (the buyer asks which questions to put to suppliers)."""
    stripped = sentence.strip()
    return (MIN_CHARS <= len(stripped) <= MAX_CHARS and len(stripped.split()) >= MIN_WORDS
            and (questions or not stripped.rstrip("»\"”’') ").endswith("?")) and not _blob(stripped)
            and not looks_like_instruction(stripped))


def _blob(text: str) -> bool:
    """Text that is not prose: laid out in columns or cells and read line by line (a table, a
    cover, a contents page: several lines, most of them a few words long, or a run of dots),
    footnotes ("17 Bilan annuel ... 18 https://..."), a glossary ("AO : appel d'offres CCAP :
    ..."), or a list of links."""
    lines = [line for line in text.split("\n") if line.strip()]
    short = sum(1 for line in lines if len(line.split()) <= 3)
    if "....." in text or (len(lines) >= 4 and short / len(lines) > 0.5):
        return True
    if _FOOTNOTE.match(text) or len(_GLOSSARY.findall(text)) >= 2:
        return True
    prose = _URL.sub(" ", text)
    return prose != text and len(prose.split()) < 12


def _same_fact(a: frozenset[str], b: frozenset[str]) -> bool:
    if not a or not b:
        return a == b
    return len(a & b) / min(len(a), len(b)) >= DUPLICATE_CONTAINMENT


def _with_context(chosen: list[Selected], passages: Sequence[Passage], limit: int) -> list[Selected]:
    """Put before each chosen sentence that points back the sentence it points to, room allowing."""
    out: list[Selected] = []
    taken = {(c.passage, c.start) for c in chosen}
    extra = limit - len(chosen)
    for c in chosen:
        if out and extra > 0 and _ANAPHORA.match(fold(c.text.lower())):  # the answer stays first
            chunk = passages[c.passage].chunk
            before = [s for s in sentence_spans(chunk.text) if s[1] <= c.start]
            if before and before[-1] in quotable_spans(chunk) and (c.passage, before[-1][0]) not in taken:
                start, end = before[-1]
                out.append(Selected(c.passage, start, chunk.text[start:end], 0.0))
                taken.add((c.passage, start))
                extra -= 1
        out.append(c)
    return out
