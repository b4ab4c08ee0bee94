"""What a question asks for (its focus), and whether a sentence gives it. Pure functions.

A buyer's question usually wants one kind of answer: a figure (with a unit: a share, an
amount, a duration), a date, a yes or no, a name (who), a definition or a list. The drafts put
first the sentences that give that kind of answer, the abstention model learns from whether the
sources hold one, and a draft whose sources speak of the subject without giving it is marked
partial ("les sources consultées ne donnent pas ce chiffre").

Detection reads the folded, lower-cased question with general French interrogative patterns
("combien", "quel taux", "depuis quand", "peut-on", "c'est quoi"...), never words of particular
questions; a figure the question gives ("les 20 % imposés par AGEC, ça vaut aussi pour... ?")
does not make it a figure question. A figure is written in digits or in words ("cinq ans", "dix (10) jours"); numbers the
question itself gives ("300 agents", "en 2020") do not count as the answer.

Example:
    >>> focus = question_focus("le label nordique, il est valable combien de temps ?")
    >>> focus.kind, focus.label, focus.term
    ('duration', 'cette durée', '')
    >>> satisfies(focus, "Il est délivré pour une durée de 3 ans.", "valable combien de temps ?")
    True
    >>> satisfies(focus, "Le label est délivré par un organisme indépendant.", "valable combien de temps ?")
    False
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.text.analysis import words
from assistant.text.normalize import normalize

_NUMBER_WORDS = (r"deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|treize|quatorze|"
                 r"quinze|seize|vingt|trente|quarante|cinquante|soixante|cent|cents|mille|million|"
                 r"millions|milliard|milliards|moitie|tiers|quart")
_TIME_UNIT = r"(?:ans?|annees?|mois|semaines?|jours?|heures?|minutes?|h|trimestres?|semestres?)"
_MONTHS = r"(?:janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|novembre|decembre)"

#: Question patterns, in priority order: the first that matches is the question's focus.
_ASKS = (
    ("date", r"\b(?:depuis quand|a partir de quand|jusqu'a quand|c'est quand|de quand|quand est-ce|"
             r"quelle date|quelle annee|en quelle annee|date limite|echeance|depuis combien de temps)\b|"
             r"\bquand\s*\?"),
    ("amount", r"\b(?:cout\w*|coute\w*|prix|tarifs?|montant|budget)\b|combien.{0,20}\beuros?\b"),
    ("share", r"\b(?:quel|combien de|quelle part de) ?%|\b(?:pourcentage|quelle part|quelle proportion|"
              r"quel taux|taux|proportion|quota|quelle quantite)\b"),
    ("duration", r"\b(?:delais?|duree|combien de temps|tous les combien|valable combien|"
                 r"combien de (?:jours|mois|ans|annees|heures|semaines)|au bout de combien)\b"),
    ("figure", r"\b(?:combien|chiffres?|chiffrent|chiffre\w*|nombre|seuils?|plafon\w*|quelle limite|voltage|"
               r"tension|numero|quelle reference|quelle norme|quelles normes|ordre de grandeur|"
               r"a hauteur de|de combien|quel niveau|quelle note|quelle valeur|valeur max\w*|"
               r"minimum|maximum|mini|maxi)\b"),
    ("ask", r"\b(?:quelles? questions?|quoi (?:leur )?demander|que (?:leur )?demander|je (?:leur )?demande quoi|"
            r"qu'est-ce que je (?:leur )?demande|quoi poser|interroger|questionnaire)\b"),
    ("who", r"^qui\b|\bpar qui\b|\bqui (?:a|est|sont|verifie|controle|pilote|paye|paie|touche|"
            r"je contacte|contacter|fait|delivre|gere)\b|\bquels? organismes?\b|\baupres de qui\b|"
            r"\bquelle structure\b"),
    ("definition", r"\b(?:c'est quoi|c quoi|qu'est-ce que|qu'est ce que|qu'est-ce qu|definition|"
                   r"signifie|veut dire|acronyme|designe|ca garantit quoi)\b"),
    ("list", r"\b(?:quels sont|quelles sont|lesquels|lesquelles|quels? (?:labels?|types?|criteres?|"
             r"questions?|elements?|textes?|structures?|exigences?|pieces?)|quelles (?:questions|valeurs|"
             r"exigences|structures|informations)|liste|exemples?|quoi (?:leur )?demander)\b"),
    ("which", r"\bquel(?:le)? (?!est\b|sont\b)"),
    ("yesno", r"^(?:est-ce|est ce|peut-on|puis-je|doit-on|faut-il|y a-t-il|a-t-on|ai-je)\b|"
              r"\b(?:on peut|je peux|peut-on|le droit|on doit|je dois|doit-on|faut-il|faut|obligatoire|"
              r"obliges?|autorise\w*|interdit\w*|ou pas|recevable|possible|ca compte|concerne\w*|"
              r"s'applique\w*|ca vaut)\b"),
)
_ASK_PATTERNS = tuple((kind, re.compile(pattern)) for kind, pattern in _ASKS)

#: What a sentence must hold to give each kind of answer (searched in the folded sentence).
_GIVES = {
    "date": re.compile(rf"\b(?:1[89]\d\d|20\d\d)\b|\b{_MONTHS}\b"),
    "amount": re.compile(rf"\d[\d  .,]*\s*(?:k|m|md|millions? d'|milliards? d')?\s*(?:€|euros?\b)|"
                         rf"\b(?:{_NUMBER_WORDS})\s+(?:millions? d'|milliards? d')?euros?\b"),
    "share": re.compile(r"\d\s*%|\bpour ?cent\b|\b(?:moitie|tiers|quart)\b|\b\d+ sur \d+\b"),
    "duration": re.compile(rf"\b(?:\d+(?:[.,]\d+)?|un|une|{_NUMBER_WORDS})\s*(?:\(\d+\)\s*)?(?:\w+\s)?{_TIME_UNIT}\b"),
    "figure": re.compile(rf"(?<![^\W\d_])\d+(?![^\W\d_])|\b(?:{_NUMBER_WORDS})\b"),
    "ask": re.compile(r"\?\s*[»\"”’')\]]*\s*$"),
    "who": re.compile(r"(?<=[\w,;:] )[A-Z][\w-]*[A-Z][\w-]*|(?<=[\w,;:] )(?:[A-Z][a-z]+ ){1,}[a-z]+"),
    "definition": re.compile(r"\b(?:est (?:un|une|le|la|l')|sont (?:des|les)|designe\w*|signifie\w*|"
                             r"correspond\w*|consiste\w*|defini\w*|c'est|regroupe\w*|garanti\w*)\b|\("),
    "list": re.compile(r"[,;:].*[,;]|\bet\b.*\bet\b|\bou\b"),
    "which": re.compile(r"."),  # the sentence must name what is asked: see `satisfies`
    "yesno": re.compile(r"\b(?:peu(?:t|vent)|pouvez|possible|impossible|doi(?:t|vent)|devez|obligatoire\w*|"
                        r"oblig\w*|interdi\w*|autoris\w*|exclu\w*|recommand\w*|pas|aucun\w*|jamais|"
                        r"s'appliqu\w*|concern\w*|tenu\w* de|requis\w*|exig\w*|permet\w*|suffi\w*|"
                        r"faut|necessaire\w*|seul\w*|uniquement)\b"),
}

#: How a partial draft names what the sources do not give ("ne donnent pas ce chiffre").
LABELS = {"date": "cette date", "amount": "ce montant", "share": "ce pourcentage",
          "duration": "cette durée", "figure": "ce chiffre", "who": "ce nom",
          "definition": "cette définition", "list": "cette liste", "ask": "ces questions",
          "which": "cette précision", "yesno": "de réponse nette",
          "open": "de réponse directe"}
#: Kinds whose absence is certain to read in a sentence: a figure is there or not.
FIGURE_KINDS = frozenset({"date", "amount", "share", "duration", "figure"})
#: Kinds whose answer names the word the interrogative points at (not a date: "de quel pays et
#: depuis quand" asks the date of the label, not of the country).
_POINTING_KINDS = frozenset({"amount", "share", "duration", "figure", "which"})


#: The words an interrogative points at: "combien de cycles", "quel pourcentage de plastique".
_POINTED = re.compile(r"\b(?:combien d(?:e |')|quel(?:le)?s? |quel(?:le)?s? (?:est|sont) (?:le |la |les |l'))"
                      r"((?:[\w'-]+ ?){1,4})")
#: Words that say which kind of figure is asked, not what it is about.
_KIND_WORDS = frozenset("""
taux part pourcentage proportion montant prix cout seuil plafond limite valeur chiffre nombre
niveau note minimum maximum mini maxi duree delai date annee temps numero reference ordre grandeur
fois quantite volume est sont le la les l de d du des un une en au aux a ce ca tout tous toute
mon ma mes ton ta tes son sa ses notre nos votre vos leur leurs cet cette ces exactement environ
deja donc vraiment actuel actuelle moyen moyenne par
""".split())


@dataclass(frozen=True)
class Focus:
    """The kind of answer a question asks for, and the word it is about.

    Args:
        kind: One of "date", "amount", "share", "duration", "figure", "ask" (which questions to
            put to suppliers: the answer is a question of a questionnaire), "who", "definition",
            "list", "which" (quel + a noun: "quelle amende", "quel titulaire"), "yesno" or
            "open" (how, why: no particular form).
        term: The analysed stem of the word a figure or "which" question points at ("combien de
            cycles" -> "cycl", "quelle amende" -> "amend"), "" when none; an answer names it.
    """

    kind: str
    term: str = ""

    @property
    def label(self) -> str:
        """French words for what is asked ("ce chiffre"), as a partial draft says it is missing."""
        return LABELS[self.kind]

    @property
    def wants_figure(self) -> bool:
        """True when the answer is a figure or a date."""
        return self.kind in FIGURE_KINDS


def question_focus(question: str) -> Focus:
    """The focus of a question: the first kind of answer its wording asks for, else "open".

    Example:
        >>> [question_focus(q).kind for q in ("ca coute combien ?", "depuis quand ?",
        ...                                    "on peut exiger un label ?", "pourquoi ?")]
        ['amount', 'date', 'yesno', 'open']
    """
    text = normalize(question)
    for kind, pattern in _ASK_PATTERNS:
        if pattern.search(text):
            return Focus(kind, _pointed_term(text) if kind in _POINTING_KINDS else "")
    return Focus("open")


def _pointed_term(text: str) -> str:
    """The stem of the first content word an interrogative points at, or ""."""
    from assistant.drafting.terms import sentence_terms

    match = _POINTED.search(text)
    if not match:
        return ""
    for word in match.group(1).replace("'", " ").split():
        if word not in _KIND_WORDS and word.rstrip("s") not in _KIND_WORDS and not word.isdigit():
            stems = sentence_terms(word)
            return min(stems) if stems else ""
    return ""


def satisfies(focus: Focus, sentence: str, question: str = "") -> bool:
    """True when the sentence gives the kind of answer `focus` asks for.

    For figure-like kinds, a figure the question itself holds does not count.

    Args:
        focus: The question's focus.
        sentence: A candidate sentence (verbatim).
        question: The question, whose own numbers are removed from the sentence first.

    Example:
        >>> satisfies(Focus("amount"), "L'audit coûte 1 500 € HT.", "300 agents, combien ?")
        True
        >>> satisfies(Focus("amount"), "Le forfait mobilité durable est de 300 €.", "300 agents, combien ?")
        False
        >>> question_focus("combien de cycles de charge minimum ?").term
        'cycl'
        >>> satisfies(question_focus("combien de cycles de charge ?"), "Une batterie de 5 ans.")
        False
    """
    if focus.kind == "open":
        return True
    if focus.kind == "who":
        return bool(_GIVES["who"].search(sentence))
    if focus.kind == "which":
        return not focus.term or _mentions(sentence, focus.term)
    text = normalize(sentence)
    if focus.wants_figure:
        text = _without_question_numbers(text, question)
        if focus.term and not _mentions(sentence, focus.term):
            return False
    return bool(_GIVES[focus.kind].search(text))


def _mentions(sentence: str, term: str) -> bool:
    from assistant.drafting.terms import sentence_terms

    return any(t.startswith(term) or term.startswith(t) for t in sentence_terms(sentence) if len(t) >= 3)


def _without_question_numbers(text: str, question: str) -> str:
    """The folded sentence with the numbers the question already gives blanked out."""
    own = {w for w in words(question) if w[0].isdigit()}
    if not own:
        return text
    return re.sub(r"\d+(?:[ .,]\d+)*", lambda m: " " if _number_key(m.group()) in own else m.group(), text)


def _number_key(number: str) -> str:
    """A number as `analysis.words` writes it ("5 404 000" -> "5404000", "3.8" -> "3,8")."""
    found = words(number)
    return found[0] if found else number
