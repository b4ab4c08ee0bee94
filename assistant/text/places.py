"""Where a buyer is and what kind of organisation it is, read from free French text.

The table of départements and régions is French administrative geography since the 2016 reform
(101 départements, 13 metropolitan and 5 overseas régions), with the former régions' names
mapped to the région that took them over. It is a fact table, not sample content: a network
never edits it.

A place is found by name, accents and case ignored, longest names first ("Haute-Garonne" before
"Garonne", "Loire-Atlantique" before "Loire"). Names that are also common words of purchasing
("Lot", "Cher", "Nord", "Somme", "Manche", "Var", "Orne"...) count only after a preposition of
place and with a capital letter ("dans le Lot", "du Cher"), so that "un lot réservé" or "trop
cher" locate nobody.

Example:
    >>> where = locate("on est une petite commune de l'Aude")
    >>> where.departement, where.region, where.kind
    ('Aude', 'Occitanie', 'commune')
    >>> locate("un lot réservé, c'est trop cher ?").region is None
    True
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from assistant.text.normalize import fold

#: Régions (since 1 January 2016) and their départements.
REGIONS: dict[str, tuple[str, ...]] = {
    "Auvergne-Rhône-Alpes": ("Ain", "Allier", "Ardèche", "Cantal", "Drôme", "Isère", "Loire", "Haute-Loire",
                             "Puy-de-Dôme", "Rhône", "Savoie", "Haute-Savoie"),
    "Bourgogne-Franche-Comté": ("Côte-d'Or", "Doubs", "Jura", "Nièvre", "Haute-Saône", "Saône-et-Loire", "Yonne",
                                "Territoire de Belfort"),
    "Bretagne": ("Côtes-d'Armor", "Finistère", "Ille-et-Vilaine", "Morbihan"),
    "Centre-Val de Loire": ("Cher", "Eure-et-Loir", "Indre", "Indre-et-Loire", "Loir-et-Cher", "Loiret"),
    "Corse": ("Corse-du-Sud", "Haute-Corse"),
    "Grand Est": ("Ardennes", "Aube", "Marne", "Haute-Marne", "Meurthe-et-Moselle", "Meuse", "Moselle",
                  "Bas-Rhin", "Haut-Rhin", "Vosges"),
    "Hauts-de-France": ("Aisne", "Nord", "Oise", "Pas-de-Calais", "Somme"),
    "Île-de-France": ("Paris", "Seine-et-Marne", "Yvelines", "Essonne", "Hauts-de-Seine", "Seine-Saint-Denis",
                      "Val-de-Marne", "Val-d'Oise"),
    "Normandie": ("Calvados", "Eure", "Manche", "Orne", "Seine-Maritime"),
    "Nouvelle-Aquitaine": ("Charente", "Charente-Maritime", "Corrèze", "Creuse", "Dordogne", "Gironde", "Landes",
                           "Lot-et-Garonne", "Pyrénées-Atlantiques", "Deux-Sèvres", "Vienne", "Haute-Vienne"),
    "Occitanie": ("Ariège", "Aude", "Aveyron", "Gard", "Haute-Garonne", "Gers", "Hérault", "Lot", "Lozère",
                  "Hautes-Pyrénées", "Pyrénées-Orientales", "Tarn", "Tarn-et-Garonne"),
    "Pays de la Loire": ("Loire-Atlantique", "Maine-et-Loire", "Mayenne", "Sarthe", "Vendée"),
    "Provence-Alpes-Côte d'Azur": ("Alpes-de-Haute-Provence", "Hautes-Alpes", "Alpes-Maritimes", "Bouches-du-Rhône",
                                   "Var", "Vaucluse"),
    "Guadeloupe": ("Guadeloupe",),
    "Martinique": ("Martinique",),
    "Guyane": ("Guyane",),
    "La Réunion": ("La Réunion",),
    "Mayotte": ("Mayotte",),
}

#: Other names of a région: abbreviations and the régions merged in 2016.
REGION_ALIASES: dict[str, str] = {
    "AURA": "Auvergne-Rhône-Alpes", "Rhône-Alpes": "Auvergne-Rhône-Alpes", "Auvergne": "Auvergne-Rhône-Alpes",
    "Bourgogne": "Bourgogne-Franche-Comté", "Franche-Comté": "Bourgogne-Franche-Comté",
    "Alsace": "Grand Est", "Lorraine": "Grand Est", "Champagne-Ardenne": "Grand Est",
    "Nord-Pas-de-Calais": "Hauts-de-France", "Picardie": "Hauts-de-France",
    "Haute-Normandie": "Normandie", "Basse-Normandie": "Normandie",
    "Aquitaine": "Nouvelle-Aquitaine", "Limousin": "Nouvelle-Aquitaine", "Poitou-Charentes": "Nouvelle-Aquitaine",
    "Languedoc-Roussillon": "Occitanie", "Midi-Pyrénées": "Occitanie",
    "PACA": "Provence-Alpes-Côte d'Azur", "Région Sud": "Provence-Alpes-Côte d'Azur",
    "Réunion": "La Réunion", "IDF": "Île-de-France",
}

#: Place names that are also everyday words: they need a preposition of place and a capital.
AMBIGUOUS = frozenset(fold(n).lower() for n in (
    "Lot", "Cher", "Nord", "Somme", "Manche", "Var", "Orne", "Aube", "Marne", "Loire", "Indre", "Eure", "Vienne",
    "Ain", "Gard", "Gers", "Landes", "Creuse", "Meuse", "Rhône", "Charente", "Paris", "Centre", "Auvergne",
    "Lorraine", "Doubs", "Jura", "Tarn", "Aude", "Vosges", "Ardennes", "Corse", "Savoie"))
_PLACE_PREPOSITION = re.compile(r"\b(?:du|de|des|dans|en|le|la|les|au|aux|sur|d|l)\s*$", re.IGNORECASE)

#: Kinds of organisation, from the words that name them (folded, lower case, first match wins).
KIND_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("hôpital", ("chu", "chr", "ch", "centre hospitalier", "hopital", "hospitalier", "ght", "clinique", "ehpad")),
    ("intercommunalité", ("intercommunalite", "communaute de communes", "communaute d'agglomeration",
                          "communaute urbaine", "agglomeration", "metropole", "syndicat", "epci", "sivom",
                          "sivu", "groupement de collectivites")),
    ("département", ("conseil departemental", "departement", "conseil general")),
    ("région", ("conseil regional", "region")),
    ("État", ("ministere", "prefecture", "service de l'etat", "services de l'etat", "etablissement public de l'etat",
              "administration centrale", "direction regionale", "dreal", "rectorat", "universite")),
    ("commune", ("commune", "mairie", "ville", "municipalite", "village", "ccas")),
)
#: Words before a kind that make it the writer's own ("notre commune", "on est une petite commune").
_SELF = re.compile(r"\b(?:notre|nos|ma|mon|je suis (?:a|dans|au)|nous sommes|on est|je travaille (?:a|dans|pour|au)|"
                   r"pour (?:une|un|la|le))\s+(?:une?\s+|la\s+|le\s+)?(?:petite?\s+|grande?\s+|moyenne\s+)?$")


@dataclass(frozen=True)
class Whereabouts:
    """What the text says of a buyer: kind of organisation, département, région (None: not said)."""

    kind: str | None = None
    departement: str | None = None
    region: str | None = None

    def __bool__(self) -> bool:
        return bool(self.kind or self.departement or self.region)

    def merged(self, other: Whereabouts) -> Whereabouts:
        """This one, completed by `other` where this one says nothing."""
        return Whereabouts(self.kind or other.kind, self.departement or other.departement,
                           self.region or other.region)


def _key(name: str) -> str:
    """Folded, lower case, hyphens and apostrophes as single spaces: "Côte-d'Or" -> "cote d or"."""
    return _normalised(name)[0]


@lru_cache(maxsize=1)
def _names() -> tuple[tuple[str, str, str | None], ...]:
    """(folded name, région, département or None), longest names first."""
    table: list[tuple[str, str, str | None]] = []
    for region, departements in REGIONS.items():
        table.append((_key(region), region, None))
        for departement in departements:
            table.append((_key(departement), region, departement))
    table.extend((_key(alias), region, None) for alias, region in REGION_ALIASES.items())
    # An overseas région and its only département share a name: keep the département reading.
    seen: dict[str, tuple[str, str, str | None]] = {}
    for entry in table:
        if entry[0] not in seen or entry[2] is not None:
            seen[entry[0]] = entry
    return tuple(sorted(seen.values(), key=lambda e: -len(e[0])))


def region_of(departement: str) -> str | None:
    """The région of a département, by its name (accents and case ignored).

    Example:
        >>> region_of("herault"), region_of("Atlantide")
        ('Occitanie', None)
    """
    key = _key(departement)
    return next((region for name, region, dep in _names() if dep is not None and name == key), None)


def canonical_region(name: str) -> str | None:
    """A région's official name from its name or alias ("PACA", "midi-pyrénées"), else None."""
    key = _key(name)
    return next((region for n, region, dep in _names() if n == key and dep is None), None)


def canonical_departement(name: str) -> str | None:
    """A département's official name ("Hérault" for "herault"), else None."""
    key = _key(name)
    return next((dep for n, _, dep in _names() if n == key and dep is not None), None)


def _normalised(text: str) -> tuple[str, str]:
    """The text folded, hyphens and apostrophes as single spaces: lower-cased, and with its case kept."""
    kept = " ".join(re.sub(r"[-'’\s]+", " ", fold(text)).split())
    return kept.lower(), kept


def _find_place(text: str) -> tuple[int, str | None, str | None]:
    """(offset, département, région) of the first place named in `text` ((-1, None, None) when none)."""
    lower, kept = _normalised(text)
    taken = [False] * len(lower)
    found: list[tuple[int, str | None, str]] = []
    for name, region, departement in _names():
        for match in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", lower):
            start, end = match.span()
            if any(taken[start:end]):
                continue
            if name in AMBIGUOUS and not (kept[start].isupper() and _PLACE_PREPOSITION.search(kept[:start])):
                continue
            for i in range(start, end):
                taken[i] = True
            found.append((start, departement, region))
    if not found:
        return -1, None, None
    start, departement, region = min(found)
    return start, departement, region


def kind_of(text: str, self_only: bool = False) -> str | None:
    """The kind of organisation a text names ("commune", "département"...), or None.

    Args:
        text: An organisation's name, or a question.
        self_only: Only a kind the writer gives as their own ("notre commune", "on est une
            commune", "une commune de l'Aude"), for questions that may speak of others.
    """
    lower, _ = _normalised(text)
    best: tuple[int, str] | None = None
    for kind, cues in KIND_WORDS:
        for cue in cues:
            for match in re.finditer(rf"\b{re.escape(_key(cue))}s?\b", lower):
                if self_only and not (_SELF.search(lower[:match.start()])
                                      or _followed_by_place(text, lower, match.end())):
                    continue
                if best is None or match.start() < best[0]:
                    best = (match.start(), kind)
                break
    return best[1] if best else None


def _followed_by_place(text: str, lower: str, end: int) -> bool:
    """Whether a kind word at `end` is followed by "de/du/des/d' <place>" (a self-location)."""
    rest = lower[end:]
    preposition = re.match(r"\s*(?:de la|de l|du|des|de|d|en|dans l|dans le|dans la)\s", rest)
    if not preposition:
        return False
    offset, _, region = _find_place(_normalised(text)[1][end:])
    return region is not None and offset <= preposition.end() + 1


def locate(text: str | None, self_only: bool = False) -> Whereabouts:
    """What a text says of its writer's organisation: its kind, département and région.

    Args:
        text: An organisation's name, or a question.
        self_only: Read a kind only as the writer's own (see `kind_of`): use it for questions.

    Example:
        >>> locate("Conseil départemental de la Haute-Garonne")
        Whereabouts(kind='département', departement='Haute-Garonne', region='Occitanie')
        >>> locate("peut-on donner nos PC à une commune ?", self_only=True).kind is None
        True
    """
    if not text:
        return Whereabouts()
    _, departement, region = _find_place(text)
    return Whereabouts(kind_of(text, self_only=self_only), departement, region)
