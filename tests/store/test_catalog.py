
import pytest

from assistant.errors import IndexMismatch, NewerIndex
from assistant.records import Chunk, chunk_id
from assistant.store.catalog import Catalog


def make_chunks(source, texts):
    return [Chunk(id=chunk_id(source, 1, i, t), text=t, source=source, title="Guide", page=1,
                  start=i, metadata={"date": "2024-03-27"}) for i, t in enumerate(texts)]


def test_replace_file_round_trip_and_generation(tmp_path):
    catalog = Catalog(tmp_path / "c.sqlite")
    first = catalog.generation
    chunks = make_chunks("/a.pdf", ["un texte", "deux textes"])
    catalog.replace_file("/a.pdf", "h1", 10, chunks, [["text"], ["deux", "text"]], "2026-01-01")
    assert catalog.files() == {"/a.pdf": "h1"}
    assert catalog.generation == first + 1, "every change bumps the generation"
    got = catalog.get_chunks([c.id for c in chunks] + ["unknown"])
    assert set(got) == {c.id for c in chunks}, "unknown ids are absent, known ones returned"
    assert got[chunks[0].id] == chunks[0], "a chunk comes back exactly as stored"
    assert dict(catalog.token_rows())[chunks[1].id] == ["deux", "text"]


def test_replacing_a_file_drops_its_old_chunks(tmp_path):
    catalog = Catalog(tmp_path / "c.sqlite")
    catalog.replace_file("/a.md", "h1", 1, make_chunks("/a.md", ["ancien"]), [["ancien"]], "t")
    new = make_chunks("/a.md", ["nouveau texte"])
    catalog.replace_file("/a.md", "h2", 1, new, [["nouveau"]], "t")
    assert catalog.all_ids() == {new[0].id}, "old chunks of a replaced file must go"
    removed = catalog.remove_files(["/a.md"])
    assert removed == [new[0].id] and catalog.count() == 0


def test_older_schema_version_is_refused_with_the_rebuild_advice(tmp_path):
    path = tmp_path / "c.sqlite"
    Catalog(path).set_meta("schema", "0")
    with pytest.raises(IndexMismatch, match="has schema 0, this guichet-vert reads 1: run 'guichet ingest --rebuild"):
        Catalog(path)


def test_newer_schema_version_is_refused_with_the_upgrade_advice_never_a_rebuild(tmp_path):
    path = tmp_path / "c.sqlite"
    Catalog(path).set_meta("schema", "99")
    with pytest.raises(NewerIndex) as exc:
        Catalog(path)
    message = str(exc.value)
    assert "written by a newer guichet-vert (schema 99" in message and "pip install -U guichet-vert" in message
    assert "--rebuild" not in message, f"a rebuild would destroy the newer index: {message}"


def test_a_file_that_is_not_a_catalog_is_refused(tmp_path):
    path = tmp_path / "c.sqlite"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(IndexMismatch, match="not a catalog"):
        Catalog(path)
