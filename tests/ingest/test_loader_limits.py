"""Every format is read under the per-file time limit and a memory bound (issue #16, item 5).

The hostile files are real and made here: a .docx zip bomb (python-docx document whose body is
padded to 1 GiB of white space, deflated to about 1 MB) and a Markdown file of a million
headings. Ingestion runs in a real `guichet ingest` process; its peak memory (the largest RSS
of the process tree, from `getrusage(RUSAGE_CHILDREN)` in a wrapper process) must stay bounded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import docx
import pytest

ROOT = Path(__file__).resolve().parents[2]
GIB = 1 << 30
#: Runs `guichet ingest ARGS --json` and prints its peak tree RSS in MB on the last line.
MEASURED = """
    import resource, subprocess, sys
    done = subprocess.run([sys.executable, "-m", "assistant", "ingest", "--json", "-q", *sys.argv[1:]],
                          capture_output=True, text=True)
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)
    sys.exit(done.returncode)
"""


def _ingest(paths: list[Path], **settings: str) -> tuple[int, dict, int, float, str]:
    """(exit code, JSON summary, peak RSS in MB, seconds, stderr) of a real `guichet ingest`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUICHET_") or k == "GUICHET_HOME"}
    env.update({f"GUICHET_{k.upper()}": v for k, v in settings.items()})
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(MEASURED), *map(str, paths)], env=env,
                          capture_output=True, text=True, timeout=900, cwd=ROOT)
    seconds = time.monotonic() - started
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 2, f"expected the JSON summary and the RSS line:\n{done.stdout}\n{done.stderr[-3000:]}"
    return done.returncode, json.loads(lines[0]), int(lines[1]), seconds, done.stderr


@pytest.fixture(scope="module")
def zip_bomb(tmp_path_factory) -> Path:
    """A valid .docx whose word/document.xml unzips to 1 GiB (white space inside the body)."""
    folder = tmp_path_factory.mktemp("bomb")
    plain = folder / "plain.docx"
    document = docx.Document()
    document.add_heading("Note", level=1)
    document.add_paragraph("Texte ordinaire.")
    document.save(plain)
    bomb = folder / "note-piegee.docx"
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            data = source.read(info)
            if info.filename != "word/document.xml":
                out.writestr(info, data)
                continue
            head, tail = data.split(b"</w:body>")
            padding = GIB - len(data)
            entry = zipfile.ZipInfo("word/document.xml", date_time=info.date_time)
            entry.compress_type, entry.file_size = zipfile.ZIP_DEFLATED, GIB
            with out.open(entry, "w") as stream:
                stream.write(head)
                block = b" " * (16 << 20)
                while padding > 0:
                    stream.write(block[:padding])
                    padding -= len(block)
                stream.write(b"</w:body>" + tail)
    plain.unlink()
    assert bomb.stat().st_size < 5 * 1024 * 1024, f"the bomb should be small: {bomb.stat().st_size} bytes"
    return bomb


@pytest.fixture
def good_file(tmp_path) -> Path:
    path = tmp_path / "docs" / "fiche.md"
    path.parent.mkdir()
    path.write_text("# Fiche\n\nLe réemploi des ordinateurs passe avant le recyclage.\n", encoding="utf-8")
    return path


@pytest.mark.slow
def test_docx_zip_bomb_is_refused_from_its_unzipped_size(zip_bomb, good_file):
    code, report, peak_mb, seconds, stderr = _ingest([good_file, zip_bomb])
    assert code == 1 and report["files"] == 1, f"the good file is indexed, the bomb fails: {report} {stderr}"
    (failed,) = report["failed"]
    assert failed["path"].endswith("note-piegee.docx") and "\n" not in failed["error"], failed
    assert "expands to 1,02" in failed["error"] and "over the 200 MB limit (GUICHET_MAX_EXPANDED_MB)" in failed["error"], failed
    assert peak_mb < 1500, f"ingesting a zip bomb must not use gigabytes: peak RSS {peak_mb} MB"


@pytest.mark.slow
def test_docx_zip_bomb_under_a_raised_size_limit_is_stopped_by_the_memory_limit(zip_bomb, good_file):
    code, report, peak_mb, seconds, stderr = _ingest([good_file, zip_bomb], max_expanded_mb="4096",
                                                    file_memory_mb="300")
    assert code == 1 and report["files"] == 1, f"{report} {stderr}"
    (failed,) = report["failed"]
    assert "needed more than 300 MB of memory (GUICHET_FILE_MEMORY_MB)" in failed["error"], failed
    assert peak_mb < 1500, f"the memory limit must hold the reading process: peak RSS {peak_mb} MB"


def _million_headings(path: Path) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for number in range(1_000_000):
            out.write(f"# Titre {number}\n")
    return path


@pytest.mark.slow
def test_markdown_of_a_million_headings_stops_at_the_file_time_limit(good_file, tmp_path):
    huge = _million_headings(tmp_path / "titres.md")
    assert huge.stat().st_size > 14_000_000
    code, report, peak_mb, seconds, stderr = _ingest([good_file, huge], file_timeout_s="5")
    assert code == 1 and report["files"] == 1, f"{report} {stderr}"
    (failed,) = report["failed"]
    assert failed["error"] == "text extraction took over 5 s (GUICHET_FILE_TIMEOUT_S)", failed
    assert seconds < 60, f"the whole ingest must end soon after the 5 s limit, took {seconds:.0f} s"


@pytest.mark.slow
def test_markdown_of_a_million_headings_stops_at_the_memory_limit(good_file, tmp_path):
    huge = _million_headings(tmp_path / "titres.md")
    code, report, peak_mb, seconds, stderr = _ingest([good_file, huge], file_memory_mb="200")
    assert code == 1 and report["files"] == 1, f"{report} {stderr}"
    (failed,) = report["failed"]
    assert failed["error"] == "text extraction needed more than 200 MB of memory (GUICHET_FILE_MEMORY_MB)", failed
    assert peak_mb < 1500, f"peak RSS {peak_mb} MB"


def test_docx_over_the_unzipped_size_limit_is_refused_before_it_is_opened(tmp_path, assert_one_line):
    from assistant.compose import ingest_config
    from assistant.config import Settings
    from assistant.errors import IngestError
    from assistant.ingest.loading import load_document

    path = tmp_path / "note.docx"
    document = docx.Document()
    document.add_paragraph("Texte ordinaire. " * 2000)
    document.save(path)
    with pytest.raises(IngestError) as exc:
        load_document(path, ingest_config(Settings(max_expanded_mb=0.01)).files)
    assert_one_line(exc, "once unzipped", "over the 0.01 MB limit", "GUICHET_MAX_EXPANDED_MB")
    (doc,) = load_document(path, ingest_config(Settings()).files)
    assert "Texte ordinaire." in doc.sections[0].text, "under the default limit the same file loads"
