"""Versioned parameter files: round trip, and one clear line for every bad file."""

from __future__ import annotations

import json

import pytest

from assistant.errors import ConfigError
from assistant.params import load_params, save_params


def test_round_trip_keeps_params_and_fit_report(tmp_path):
    path = tmp_path / "sub" / "ranker.json"
    save_params(path, "ranker", 2, {"weights": [0.25, -1.0]}, {"n": 12, "hit@5": 0.9})
    data = load_params(path, "ranker", 2)
    assert data["params"] == {"weights": [0.25, -1.0]}, data
    assert data["fitted"]["hit@5"] == 0.9, data
    assert [p.name for p in path.parent.iterdir()] == ["ranker.json"], "no temporary file left"


@pytest.mark.parametrize("content, message", [
    ("{not json", "unreadable"),
    (b"\xff\xfe\x00", "unreadable"),
    ('["a list"]', "no 'params' object"),
    ('{"kind": "ranker", "format": 2}', "no 'params' object"),
    ('{"kind": "abstention", "format": 2, "params": {}}', "holds 'abstention' parameters, not 'ranker'"),
    ('{"kind": "ranker", "format": 1, "params": {}}', "format 1, this version reads format 2"),
])
def test_bad_files_fail_in_one_line(tmp_path, content, message):
    path = tmp_path / "ranker.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as info:
        load_params(path, "ranker", 2)
    assert "\n" not in str(info.value), "one line"
    assert path.read_bytes() == (content if isinstance(content, bytes) else content.encode()), "file kept"


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_params(tmp_path / "absent.json", "ranker", 1)


def test_saved_file_is_plain_json(tmp_path):
    path = tmp_path / "a.json"
    save_params(path, "abstention", 1, {"bias": 0.5}, {})
    assert json.loads(path.read_text())["kind"] == "abstention"


@pytest.mark.parametrize("kind, command", [("ranker", "guichet tune"), ("abstention", "guichet calibrate")])
def test_a_bad_file_names_the_command_that_refits_its_kind(tmp_path, kind, command):
    path = tmp_path / f"{kind}.json"
    path.write_text(json.dumps({"kind": kind, "format": 1, "params": {}}), encoding="utf-8")
    with pytest.raises(ConfigError, match=f"refit with '{command}'"):
        load_params(path, kind, 2)
