"""A small real knowledge index: real chunks of the shared corpus, real Chroma, real e5-small."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.embeddings.factory import make_embedder
from assistant.embeddings.windows import embed_chunks
from assistant.records import Chunk, chunk_id
from assistant.text.analysis import ANALYZER_VERSION, FrenchAnalyzer
from assistant.store.catalog import Catalog
from assistant.store.chroma import ChromaStore

FAQ = ("En dessous de 5 ans, il est possible de vendre le matériel. Entre 5 et 10 ans, c’est le don "
       "et le transfert aux autres administrations du matériel fonctionnel qu’il faut privilégier. "
       "Au-delà de 10 ans, il est considéré que le matériel n’est peu ou plus fonctionnel. Il devient "
       "un DEEE qu’il faut faire collecter par un éco-organisme collecteur des DEEE.")
# The same paragraph as a PDF gives it: line breaks, hyphenation, straight apostrophes.
FAQ_PDF = ("FIN D'USAGE DES ÉQUIPEMENTS | FAQ\nEn dessous de 5 ans, il est possible de vendre le maté-\n"
           "riel. Entre 5 et 10 ans, c'est le don et le transfert aux autres administrations du\n"
           "matériel fonctionnel qu'il faut privilégier. Au-delà de 10 ans, il est considéré que le\n"
           "matériel n'est peu ou plus fonctionnel. Il devient un DEEE qu'il faut faire collecter\n"
           "par un éco-organisme collecteur des DEEE.")

#: (source, kind, page, section, tags, text)
ROWS = [
    ("/corpus/md/fin-usage--faq.md", "guide", None,
     "DEEE > Un matériel âgé de plus de 5 ans est systématiquement considéré comme un DEEE ?",
     "DEEE, fin de vie", FAQ),
    ("/corpus/pdf/fin-usage.pdf", "guide", 3, "", "", FAQ_PDF),
    ("/corpus/md/fin-usage--faq.md", "guide", None,
     "DEEE > Faut-il payer les enlèvements lors de la collecte des DEEE ?", "DEEE, fin de vie",
     "L’enlèvement est gratuit sur site chez Ecologic dans les conditions suivantes : 250 kg, nu "
     "d'emballage, à quai, sur palette ou sur roulette."),
    ("/corpus/md/fin-usage--don.md", "guide", None, "À qui donner ?", "don",
     "La valeur unitaire des biens donnés n'excède pas 300€. Les biens donnés ne sont pas revendus. "
     "Le bénéficiaire est une association reconnue d'utilité publique."),
    ("/corpus/pdf/guide-achats-numeriques-responsables-2021.pdf", "guide", 38, "", "",
     "Selon l’article R2111-15, l’acheteur peut exiger un label particulier à condition que les "
     "caractéristiques prouvées par ce label reposent sur des critères objectivement vérifiables et "
     "non discriminatoires, établis par une procédure ouverte et transparente."),
    ("/corpus/pdf/guide-achats-numeriques-responsables-2021.pdf", "guide", 4, "", "",
     "PRÉFACE 3,8 % des émissions de gaz à effet de serre (GES) 4,2 % de la consommation d’énergie "
     "primaire. Le numérique pèse dans l'empreinte environnementale mondiale."),
    ("/corpus/md/indice-reparabilite-en-pratique.md", "guide", None, "Demander le détail de la note",
     "réparabilité", "Le fabricant ou le vendeur doit communiquer les paramètres ayant permis "
     "d’établir la note de l’indice de réparabilité à toute personne qui en fait la demande, dans un "
     "délai de 15 jours."),
    ("/kb/reponses.yaml", "answer", None, "Réponse validée", "DEEE, don",
     "Pour un ordinateur de plus de 7 ans encore fonctionnel, le guichet vert conseille le don à une "
     "association plutôt que la filière DEEE."),
    ("/corpus/pdf/plan-transformation-ecologique-etat-2024.pdf", "guide", 12, "", "",
     "Dans les restaurants administratifs de l'État, 100 % de produits durables et de qualité dont "
     "des produits issus de l'agriculture biologique."),
]


def make_chunks(rows=ROWS) -> list[Chunk]:
    return [Chunk(chunk_id(source, page, i, text), text, source, title=Path(source).stem, kind=kind,
                  page=page, section=section, start=i, metadata={"tags": tags} if tags else {})
            for i, (source, kind, page, section, tags, text) in enumerate(rows)]


@dataclass
class SmallIndex:
    catalog: Catalog
    store: ChromaStore
    embedder: object
    home: Path
    chunks: list[Chunk]

    def settings(self, **overrides) -> Settings:
        return Settings(home=self.home, **overrides)

    def by_source(self, name: str) -> list[Chunk]:
        return [c for c in self.chunks if Path(c.source).name == name]


def add_chunks(catalog: Catalog, store: ChromaStore, embedder, chunks: list[Chunk]) -> None:
    """Store chunks the way ingestion does: vectors first, then the file's catalog rows."""
    analyzer = FrenchAnalyzer()
    made = embed_chunks(embedder, chunks)
    store.upsert([c.id for c in chunks], made.vectors, [{"kind": c.kind, "source": c.source} for c in chunks],
                 made.windows)
    by_file: dict[str, list[Chunk]] = {}
    for c in chunks:
        by_file.setdefault(c.source, []).append(c)
    for source, own in by_file.items():
        catalog.replace_file(source, "sha-" + source, 1, own,
                             [analyzer.analyze(c.index_text) for c in own], "2026-01-01T00:00:00")


@pytest.fixture(scope="session")
def embedder():
    model = make_embedder("e5-small")
    model.warm_up()
    return model


@pytest.fixture(scope="module")
def small_index(tmp_path_factory, embedder) -> SmallIndex:
    home = tmp_path_factory.mktemp("small-index")
    catalog = Catalog(home / "catalog.sqlite")
    catalog.set_meta("analyzer", ANALYZER_VERSION)
    store = ChromaStore.persistent(home / "chroma", embedder=embedder.name)
    chunks = make_chunks()
    add_chunks(catalog, store, embedder, chunks)
    return SmallIndex(catalog, store, embedder, home, chunks)
