"""Versioned parameter files of fitted models (the ranker, the abstention model).

A parameter file is JSON: `{"kind": ..., "format": N, "fitted": {...report...}, "params": {...}}`.
The package ships one per model; `guichet tune` (the ranker) and `guichet calibrate` (the
abstention model) write a desk's own into GUICHET_HOME, and the
shipped file comes back when that one is removed. A file of another kind or format version, or
one that is not valid JSON, fails in one line that says what to do.

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "m.json"
    >>> save_params(path, "ranker", 1, {"w": [0.5]}, {"n": 3})
    >>> load_params(path, "ranker", 1)["params"]
    {'w': [0.5]}
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Mapping

from assistant.errors import ConfigError

#: The command that refits each kind of parameters.
REFIT = {"ranker": "guichet tune", "abstention": "guichet calibrate"}


def load_params(path: Path, kind: str, version: int) -> dict[str, Any]:
    """The parameter file at `path`, checked to be of `kind` and format `version`.

    Returns:
        The whole file: `kind`, `format`, `fitted` (how it was fitted) and `params`.

    Raises:
        ConfigError: missing, unreadable, not JSON, or of another kind or version.
    """
    refit = f"'{REFIT.get(kind, 'guichet tune')}'"
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{kind} parameters {path} not found") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"{kind} parameters {path} are unreadable ({type(exc).__name__}): delete the "
                          f"file to go back to the shipped parameters, or refit with {refit}") from None
    if not isinstance(data, dict) or not isinstance(data.get("params"), dict):
        raise ConfigError(f"{kind} parameters {path} have no 'params' object: delete the file "
                          f"or refit with {refit}")
    if data.get("kind") != kind:
        raise ConfigError(f"{path} holds {data.get('kind')!r} parameters, not {kind!r}")
    if data.get("format") != version:
        raise ConfigError(f"{kind} parameters {path} are format {data.get('format')!r}, this version "
                          f"reads format {version}: refit with {refit} or delete the file")
    return data


def save_params(path: Path, kind: str, version: int, params: Mapping[str, Any],
                fitted: Mapping[str, Any]) -> None:
    """Write a parameter file atomically (a crash leaves the old file or the new one)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"kind": kind, "format": version, "fitted": dict(fitted), "params": dict(params)}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(payload, out, indent=1, ensure_ascii=False)
            out.write("\n")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
