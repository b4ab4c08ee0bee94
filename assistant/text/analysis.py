"""French text analysis for the lexical index: the same tokens on the document and query sides.

Pipeline: Unicode NFKC, lower case, typographic apostrophes made ASCII, elisions removed
(l', d', qu', lorsqu'...), thousands separators joined ("5 404 000" -> "5404000"), decimal
commas kept as one token ("3,8 %" -> "3,8"; "3.8" gives the same token), hyphenated words split
into their parts, accents folded, stop words removed, Snowball French stemming (PyStemmer),
final e's of stems dropped (see `_trim`).

Accents are folded BEFORE stemming: buyers type without accents, and Snowball stems "données"
and "donnees" differently ("don" / "donne"), so only folding first gives the same stem to both.

The query side also expands acronyms and informal words from a domain table
(`domain_terms.yaml`, extended by `Settings.synonyms_file`); expansions get a lower weight than
the buyer's own words. The table is used only for queries, so editing it needs no re-indexing;
`ANALYZER_VERSION` changes only when document tokens change.

Example:
    >>> FrenchAnalyzer().analyze("L’indice de réparabilité : 3,8 % des émissions")
    ['indic', 'reparabilit', '3,8', 'emiss']
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import yaml

from assistant.errors import ConfigError
from assistant.text.normalize import fold
from assistant.text.stopwords import STOP_WORDS

#: Bump whenever `analyze` gives other tokens for the same text (the lexical index is rebuilt).
ANALYZER_VERSION = "2"

#: Weight of a token that comes from the domain table rather than from the question itself.
EXPANSION_WEIGHT = 0.3

DOMAIN_TERMS = Path(__file__).with_name("domain_terms.yaml")

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2032": "'",
                              "\u00b4": "'", "`": "'"})
_ELISION = re.compile(r"\b(?:l|d|qu|j|n|s|c|m|t|lorsqu|puisqu|jusqu|quoiqu)'(?=\w)")
_THOUSANDS = re.compile(r"(?<![\d,.])\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?![\d,]|\.\d)")
_TOKEN = re.compile(r"\d+(?:[.,]\d+)+|\w+", re.UNICODE)


_stemmer = None
_stemmer_lock = threading.Lock()  # a PyStemmer object must not be used by two threads at once


def _stem_words(words: list[str]) -> list[str]:
    global _stemmer
    with _stemmer_lock:
        if _stemmer is None:
            import Stemmer  # PyStemmer: Snowball stemmers with their data, no download

            _stemmer = Stemmer.Stemmer("french")
        return _stemmer.stemWords(words)


def words(text: str) -> list[str]:
    """Normalised, folded, elision-free words and numbers of `text`, before stop words and stems.

    Example:
        >>> words("Jusqu’à 3.8 % ; 5 404 000 € HT ; l'éco-conception")
        ['a', '3,8', '5404000', 'ht', 'eco', 'conception']
    """
    text = unicodedata.normalize("NFKC", text).lower().translate(_APOSTROPHES)
    text = _ELISION.sub(" ", text)
    text = _THOUSANDS.sub(lambda m: re.sub(r"\D", "", m.group()), text)
    out = []
    for token in _TOKEN.findall(fold(text)):
        if token[0].isdigit() and ("," in token or "." in token):
            token = token.replace(".", ",")
        out.append(token.strip("_"))
    return [t for t in out if t]


def _pairs(tokens: list[str]) -> list[tuple[str, str]]:
    """(word, token) pairs: stop words out, then Snowball stems (tokens with digits kept as they are)."""
    kept = [t for t in tokens if t not in STOP_WORDS and (len(t) > 1 or t.isdigit())]
    plain = [t for t in kept if t.isalpha()]
    stems = dict(zip(plain, (_trim(s) for s in _stem_words(plain))))
    return [(t, stems.get(t, t)) for t in kept]


def _trim(stem: str) -> str:
    """Drop the final e's Snowball leaves on folded participles ("effacees" -> "efface").

    Snowball strips "-ée(s)" only when it sees the accent; after folding, "effacées" would stem
    to "efface" and miss "effacement" ("effac"). Trimming restores the conflation.
    """
    trimmed = stem.rstrip("e")
    return trimmed if len(trimmed) >= 3 else stem


def _stems(tokens: list[str]) -> list[str]:
    return [stem for _, stem in _pairs(tokens)]


#: A domain-table rule: phrase tokens, whether they match the unstemmed words (acronyms: "REP"
#: must not fire on "repa", which Snowball also stems to "rep"), and the expansion tokens.
Rule = tuple[tuple[str, ...], bool, tuple[str, ...]]


class FrenchAnalyzer:
    """Turns French text into BM25 tokens; queries also get acronym and synonym expansions.

    Args:
        synonyms_file: Extra YAML table with the same shape as `domain_terms.yaml` (its entries
            are added to the built-in ones).

    Raises:
        ConfigError: the synonyms file is missing or malformed (on first query analysis).

    Example:
        >>> analyzer = FrenchAnalyzer()
        >>> analyzer.analyze("Les DEEE d'un PC reconditionné")
        ['dee', 'pc', 'recondition']
        >>> "ordin" in analyzer.analyze_query("mon vieux PC")
        True
    """

    def __init__(self, synonyms_file: Path | None = None) -> None:
        self.synonyms_file = synonyms_file
        self._table: list[Rule] | None = None

    def analyze(self, text: str) -> list[str]:
        """Document-side tokens.

        Example:
            >>> FrenchAnalyzer().analyze("Entre 5 et 10 ans, c'est le don qu'il faut privilégier.")
            ['entr', '5', '10', 'an', 'don', 'faut', 'privilegi']
        """
        return _stems(words(text))

    def analyze_query(self, text: str) -> list[str]:
        """Query-side tokens: `analyze` plus domain-table expansions (without their weights).

        Example:
            >>> FrenchAnalyzer().analyze_query("benne DEEE")[:2]
            ['ben', 'dee']
        """
        return [token for token, _ in self.query_terms(text)]

    def content_words(self, text: str) -> list[str]:
        """The folded words of `text` that are not stop words, before stemming.

        Example:
            >>> FrenchAnalyzer().content_words("L'indice de répa")
            ['indice', 'repa']
        """
        return [word for word, _ in _pairs(words(text))]

    def query_terms(self, text: str) -> list[tuple[str, float]]:
        """Query tokens with their weight: 1.0 for the question's own words, less for expansions.

        Example:
            >>> FrenchAnalyzer().query_terms("ordi")
            [('ordi', 1.0), ('ordin', 0.3)]
        """
        pairs = _pairs(words(text))
        terms = {stem: 1.0 for _, stem in pairs}
        for expansion in expand(pairs, self.table):
            terms.setdefault(expansion, EXPANSION_WEIGHT)
        return list(terms.items())

    @property
    def table(self) -> list[Rule]:
        """The analysed domain table, loaded once."""
        if self._table is None:
            files = [DOMAIN_TERMS] + ([Path(self.synonyms_file)] if self.synonyms_file else [])
            self._table = [rule for path in files for rule in _load_table(path)]
        return self._table


def expand(pairs: Sequence[tuple[str, str]], table: Iterable[Rule]) -> list[str]:
    """Expansion tokens of every table phrase found (as consecutive tokens) in the query.

    Args:
        pairs: (word, token) pairs of the query, as analysed.
        table: Rules (phrase, match the words rather than the tokens, expansion tokens).

    Example:
        >>> expand([("pc", "pc"), ("vieux", "vieux")], [(("pc",), True, ("ordin",))])
        ['ordin']
    """
    found: list[str] = []
    sequences = {True: tuple(w for w, _ in pairs), False: tuple(t for _, t in pairs)}
    for phrase, exact, targets in table:
        seq, size = sequences[exact], len(phrase)
        if any(seq[i:i + size] == phrase for i in range(len(seq) - size + 1)):
            found.extend(t for t in targets if t not in found)
    return found


def _load_table(path: Path) -> list[Rule]:
    return list(_load_table_cached(str(path), path.stat().st_mtime if path.exists() else 0.0))


@lru_cache(maxsize=8)
def _load_table_cached(path: str, _mtime: float) -> tuple[Rule, ...]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"synonyms file {path} does not exist: fix GUICHET_SYNONYMS_FILE") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"synonyms file {path} is not readable YAML: "
                          f"{str(exc).splitlines()[0]}") from None
    return tuple(_rules(data, path))


def _rules(data: object, path: str) -> Iterable[Rule]:
    """Analysed rules from the YAML shape documented in domain_terms.yaml."""
    if not isinstance(data, Mapping) or set(data) - {"acronyms", "equivalents", "expansions"}:
        raise ConfigError(f"synonyms file {path}: expected a mapping with keys 'acronyms', "
                          "'equivalents' and/or 'expansions'")

    def analysed(value: object, where: str, exact: bool = False) -> tuple[str, ...]:
        if not isinstance(value, (str, int, float)) or not str(value).strip():
            raise ConfigError(f"synonyms file {path}: {where}: expected a non-empty word or phrase, "
                              f"got {value!r}")
        return tuple(w if exact else t for w, t in _pairs(words(str(value))))

    def as_list(value: object, where: str) -> list:
        if isinstance(value, list):
            return value
        raise ConfigError(f"synonyms file {path}: {where}: expected a list, got {value!r}")

    def mapping(key: str) -> Mapping:
        value = data.get(key) or {}
        if not isinstance(value, Mapping):
            raise ConfigError(f"synonyms file {path}: '{key}': expected a mapping, got {value!r}")
        return value

    for acronym, meanings in mapping("acronyms").items():
        word = analysed(acronym, f"acronyms: {acronym!r}", exact=True)
        short = analysed(acronym, f"acronyms: {acronym!r}")
        for meaning in meanings if isinstance(meanings, list) else [meanings]:
            long = analysed(meaning, f"acronyms: {acronym!r}")
            if word and long:
                yield word, True, long
                yield long, False, short
    for i, group in enumerate(as_list(data.get("equivalents") or [], "'equivalents'")):
        members = [analysed(m, f"equivalents #{i + 1}") for m in as_list(group, f"equivalents #{i + 1}")]
        for member in members:
            others = tuple(t for m in members if m != member for t in m if t not in member)
            if member and others:
                yield member, False, others
    for word, targets in mapping("expansions").items():
        source = analysed(word, f"expansions: {word!r}")
        goals = targets if isinstance(targets, list) else [targets]
        out = tuple(t for g in goals for t in analysed(g, f"expansions: {word!r}") if t not in source)
        if source and out:
            yield source, False, out
