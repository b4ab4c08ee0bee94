"""`guichet serve` and `python app.py`: help with examples, start on the configured port."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
from click.testing import CliRunner
from support import free_port
from ui_fixtures import ROOT, copy_index

from assistant.cli import cli
from assistant.cli import commands  # noqa: F401  (registers the subcommands)


def test_serve_help_has_examples():
    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0, result.output
    for text in ("Examples:", "guichet serve --host 0.0.0.0 --port 8080", "--corpus", "--no-ingest",
                 "--questions-per-minute", "guichet advisor add"):
        assert text in result.output, f"{text!r} missing from 'guichet serve --help'"


def test_serve_refuses_a_bad_port():
    result = CliRunner().invoke(cli, ["serve", "--port", "70000"])
    assert result.exit_code == 2 and "70000" in result.output


def test_app_py_serves_on_the_configured_host_and_port(index_template, tmp_path):
    home = copy_index(index_template, tmp_path / "home")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUICHET_")}
    env.update(GUICHET_HOME=str(home), GUICHET_PORT=str(port), GUICHET_HOST="127.0.0.1")
    process = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 180  # the machine is shared: a loaded one starts the app in over a minute
        while time.monotonic() < deadline:
            assert process.poll() is None, f"app.py exited: {process.stdout.read()}"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/sante", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            raise AssertionError("app.py did not answer within 180 s")
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=10).status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/sante", timeout=10).json() == {"statut": "ok"}
    finally:
        process.terminate()
        output = process.communicate(timeout=20)[0]
    assert "Premier démarrage" not in output, "an index that already has documents is not re-ingested"
    assert f"http://127.0.0.1:{port}/conseiller/" in output, output


def test_app_py_on_an_index_from_an_older_version_says_how_to_rebuild_in_one_line(index_template, tmp_path):
    from assistant.compose import index_config
    from assistant.config import Settings
    from assistant.store.catalog import open_catalog

    home = copy_index(index_template, tmp_path / "home")
    catalog = open_catalog(index_config(Settings(home=home)))
    catalog.set_meta("embedder", "e5-small")  # what versions before window-mean vectors recorded
    catalog.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUICHET_")}
    env.update(GUICHET_HOME=str(home), GUICHET_PORT=str(free_port()))
    result = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1 and "guichet ingest --rebuild" in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_app_start_and_health_check_say_when_the_vectors_are_lost(index_template, tmp_path):
    import shutil

    home = copy_index(index_template, tmp_path / "home")
    shutil.rmtree(home / "chroma")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUICHET_")}
    env.update(GUICHET_HOME=str(home), GUICHET_PORT=str(port))
    process = subprocess.Popen([sys.executable, "-m", "assistant", "serve", "--no-ingest"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 180
        while True:
            assert process.poll() is None and time.monotonic() < deadline, "the app did not start"
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/sante", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.3)
        assert health.status_code == 200, "keyword search works: the process stays in rotation"
        body = health.json()
        assert body["statut"] == "dégradé" and "holds 0 vectors" in body["index"], body
    finally:
        process.terminate()
        output = process.communicate(timeout=20)[0]
    (line,) = [line for line in output.splitlines() if line.startswith("Attention, index incomplet")]
    assert "keyword-only" in line and "guichet ingest" in line, line
