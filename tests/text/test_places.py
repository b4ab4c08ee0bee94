"""Where a buyer is: the département → région table and reading places and kinds from French text."""

from __future__ import annotations

import pytest

from assistant.text import places
from assistant.text.places import Whereabouts, locate


def test_the_table_holds_every_departement_once():
    departements = [d for ds in places.REGIONS.values() for d in ds]
    assert len(places.REGIONS) == 18, "13 metropolitan and 5 overseas régions since 2016"
    assert len(departements) == 101 and len(set(departements)) == 101, "101 départements, each in one région"
    assert all(places.region_of(d) == r for r, ds in places.REGIONS.items() for d in ds)
    assert all(places.canonical_region(alias) == region for alias, region in places.REGION_ALIASES.items())


@pytest.mark.parametrize("text, expected", [
    ("on est une petite commune de l'Aude", Whereabouts("commune", "Aude", "Occitanie")),
    ("une commune de l'Hérault voudrait des PC reconditionnés", Whereabouts("commune", "Hérault", "Occitanie")),
    ("notre mairie, en haute-garonne", Whereabouts("commune", "Haute-Garonne", "Occitanie")),
    ("nous sommes un CHU en Loire-Atlantique", Whereabouts("hôpital", "Loire-Atlantique", "Pays de la Loire")),
    ("notre communauté de communes du Lot", Whereabouts("intercommunalité", "Lot", "Occitanie")),
    ("ma commune est en Côte-d'Or", Whereabouts("commune", "Côte-d'Or", "Bourgogne-Franche-Comté")),
    ("on est en PACA", Whereabouts(None, None, "Provence-Alpes-Côte d'Azur")),
    ("un syndicat du Languedoc-Roussillon", Whereabouts("intercommunalité", None, "Occitanie")),
    ("notre département, la Seine-Saint-Denis", Whereabouts("département", "Seine-Saint-Denis", "Île-de-France")),
])
def test_locate_a_buyer_from_a_question(text, expected):
    assert locate(text, self_only=True) == expected, f"{text!r} read as {locate(text, self_only=True)}"


@pytest.mark.parametrize("text", [
    "un lot réservé, c'est trop cher ?",            # "Lot" and "Cher" are départements
    "au nord de la ville, la somme due",            # "Nord" and "Somme" too
    "exiger un label dans la manche d'un marché",
    "",
])
def test_everyday_words_locate_nobody(text):
    assert locate(text, self_only=True).region is None, f"{text!r} read as {locate(text, self_only=True)}"


@pytest.mark.parametrize("text, kind", [
    ("peut-on donner nos PC à une commune ?", None),     # a commune spoken of, not the writer's
    ("le département a-t-il un SPASER ?", None),
    ("je travaille pour une métropole", "intercommunalité"),
    ("une commune de l'Aude", "commune"),
])
def test_self_only_reads_the_writers_own_kind(text, kind):
    assert places.kind_of(text, self_only=True) == kind


@pytest.mark.parametrize("organisation, expected", [
    ("Mairie de Sète", Whereabouts("commune", None, None)),
    ("Conseil départemental de la Haute-Garonne", Whereabouts("département", "Haute-Garonne", "Occitanie")),
    ("CH de Saint-Chély-d'Apcher (Lozère)", Whereabouts("hôpital", "Lozère", "Occitanie")),
    ("Région Occitanie", Whereabouts("région", None, "Occitanie")),
])
def test_locate_an_organisation_field(organisation, expected):
    assert locate(organisation) == expected


def test_merged_keeps_what_the_first_says():
    field = locate("Mairie de Sète")
    merged = field.merged(locate("on est dans l'Hérault", self_only=True))
    assert merged == Whereabouts("commune", "Hérault", "Occitanie")
    assert not Whereabouts() and merged
