"""Checks `load_document` makes before any parsing: extension, readability, emptiness, size."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant.compose import ingest_config
from assistant.config import Settings
from assistant.errors import IngestError, UnsupportedFile
from assistant.ingest.loading import SUPPORTED, load_document


def test_supported_extensions_are_the_contract():
    assert SUPPORTED == {".pdf", ".md", ".markdown", ".html", ".htm", ".txt", ".docx", ".yaml", ".yml", ".json", ".csv"}


def test_unsupported_extension_lists_the_supported_ones(tmp_path, limits, assert_one_line):
    path = tmp_path / "setup.exe"
    path.write_bytes(b"MZ\x90\x00")
    with pytest.raises(UnsupportedFile) as exc:
        load_document(path, limits)
    message = assert_one_line(exc, "unsupported extension '.exe'")
    assert message.endswith("supported are " + ", ".join(sorted(SUPPORTED))), message


def test_legacy_word_extension_says_what_to_do(tmp_path, limits, assert_one_line):
    path = tmp_path / "ancien.DOC"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(UnsupportedFile) as exc:
        load_document(path, limits)
    assert_one_line(exc, "unsupported extension '.DOC'", "save it as .docx")


def test_extension_is_case_insensitive(tmp_path, limits):
    path = tmp_path / "NOTE.TXT"
    path.write_text("Note\n", encoding="utf-8")
    assert load_document(path, limits)[0].title == "Note"


def test_empty_file(tmp_path, limits, assert_one_line):
    path = tmp_path / "vide.pdf"
    path.touch()
    with pytest.raises(IngestError) as exc:
        load_document(path, limits)
    assert assert_one_line(exc) == "empty file (0 bytes)"


def test_file_over_the_size_limit(tmp_path, assert_one_line):
    path = tmp_path / "gros.txt"
    path.write_text("du texte\n" * 300, encoding="utf-8")  # 2,700 bytes
    with pytest.raises(IngestError) as exc:
        load_document(path, ingest_config(Settings(max_file_mb=0.001)).files)
    assert assert_one_line(exc) == "file is 2.6 KB, over the 0.001 MB limit (GUICHET_MAX_FILE_MB)"


def test_size_in_megabytes(tmp_path, assert_one_line):
    path = tmp_path / "gros.md"
    with path.open("wb") as handle:
        handle.truncate(3 * 1024 * 1024 + 300 * 1024)  # sparse: 3.3 MB without writing them
    with pytest.raises(IngestError) as exc:
        load_document(path, ingest_config(Settings(max_file_mb=2)).files)
    assert assert_one_line(exc) == "file is 3.3 MB, over the 2 MB limit (GUICHET_MAX_FILE_MB)"


def test_missing_file(tmp_path, limits, assert_one_line):
    with pytest.raises(IngestError) as exc:
        load_document(tmp_path / "absent.md", limits)
    assert assert_one_line(exc) == "file not found"


def test_broken_symlink_is_unreadable(tmp_path, limits, assert_one_line):
    """Tests run as root, which reads any file whatever its mode: a link to nothing really fails."""
    link = tmp_path / "lien.pdf"
    link.symlink_to(tmp_path / "disparu.pdf")
    with pytest.raises(IngestError) as exc:
        load_document(link, limits)
    assert_one_line(exc, "broken symbolic link", "disparu.pdf")


def test_named_pipe_is_refused_without_blocking(tmp_path, limits, assert_one_line):
    """Opening a FIFO for reading would block forever: it must be refused before any open()."""
    fifo = tmp_path / "tube.txt"
    os.mkfifo(fifo)
    with pytest.raises(IngestError) as exc:
        load_document(fifo, limits)
    assert_one_line(exc, "not a regular file", "named pipe")


def test_directory_named_like_a_file(tmp_path, limits, assert_one_line):
    folder = tmp_path / "rapport.pdf"
    folder.mkdir()
    with pytest.raises(IngestError) as exc:
        load_document(folder, limits)
    assert_one_line(exc, "not a regular file", "directory")


def test_file_without_read_permission(tmp_path_factory):
    """A file the user may not read. Tests run as root, who reads anything, so the check runs
    in a child process that drops to the unprivileged 'nobody' user first."""
    import subprocess
    import sys
    import tempfile

    folder = Path(tempfile.mkdtemp())
    try:
        folder.chmod(0o755)
        path = folder / "prive.md"
        path.write_text("# Secret\n", encoding="utf-8")
        path.chmod(0)
        code = ("import os, sys; from pathlib import Path; from assistant.compose import ingest_config, load_settings; "
                "from assistant.ingest.loading import load_document; from assistant.errors import IngestError\n"
                "limits = ingest_config(load_settings()).files\n"
                "if os.geteuid() == 0:\n    os.setuid(65534)\n"  # drop to 'nobody' once Python is loaded
                "try:\n    load_document(Path(sys.argv[1]), limits)\n"
                "except IngestError as exc:\n    print(exc)\n")
        result = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                                env={**os.environ, "GUICHET_HOME": str(folder / "home")})
        message = result.stdout.strip()
        assert "cannot read file" in message and "permission denied" in message.lower(), (message, result.stderr)
        assert "\n" not in message
    finally:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)


def test_sources_are_resolved_absolute_paths(tmp_path, limits, monkeypatch):
    (tmp_path / "dossier").mkdir()
    (tmp_path / "dossier" / "note.txt").write_text("Note\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    (doc,) = load_document(type(tmp_path)("dossier/../dossier/note.txt"), limits)
    assert doc.source == str((tmp_path / "dossier" / "note.txt").resolve())
