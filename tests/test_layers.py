"""The stages import one way: a lower stage never imports a higher one, and only the
composition root (`assistant.compose`) reads the settings (`assistant.config`).

Every import of every module is read from its source, lazy imports inside functions included.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "assistant"

#: What each stage must never import (acceptance of issue #18, plus the composition root).
FORBIDDEN = {
    "db": {"text", "embeddings", "store", "ingest", "retrieval", "drafting", "review", "evaluation", "insights",
           "ui", "cli", "pipeline", "compose", "config"},
    "text": {"embeddings", "store", "ingest", "retrieval", "drafting", "review", "evaluation", "insights",
             "ui", "cli", "pipeline", "compose", "config"},
    "embeddings": {"store", "ingest", "retrieval", "drafting", "review", "evaluation", "insights", "ui", "cli",
                   "pipeline", "compose", "config"},
    "store": {"ingest", "retrieval", "drafting", "review", "evaluation", "insights", "ui", "cli", "pipeline",
              "compose", "config"},
    "retrieval": {"ingest", "drafting", "review", "evaluation", "insights", "ui", "cli", "pipeline", "compose",
                  "config"},
    "drafting": {"review", "evaluation", "insights", "ui", "cli", "pipeline", "compose", "config"},
    "review": {"evaluation", "insights", "ui", "cli", "pipeline", "compose", "config"},
    "insights": {"ui", "cli", "compose", "config"},
    "evaluation": {"ui", "cli", "compose", "config"},
    "pipeline": {"ui", "cli", "compose", "config"},
    "ui": {"cli", "compose", "config"},
    "cli": {"config"},
}


def _imports(path: Path) -> set[str]:
    """The `assistant.X` stages a module imports (anywhere in it)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] if node.module != "assistant" else [f"assistant.{a.name}" for a in node.names]
        found |= {name.split(".")[1] for name in names if name.startswith("assistant.")}
    return found


def _stage(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def _violations() -> list[str]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        stage = _stage(path)
        for target in sorted(_imports(path) & FORBIDDEN.get(stage, set())):
            out.append(f"{path.relative_to(PACKAGE.parent)} ({stage}) imports assistant.{target}")
    return out


def test_no_stage_imports_a_higher_one():
    violations = _violations()
    assert not violations, "imports against the stage order:\n" + "\n".join(violations)


def test_only_the_composition_root_reads_the_settings():
    readers = {str(p.relative_to(PACKAGE.parent)) for p in PACKAGE.rglob("*.py")
               if "config" in _imports(p) and _stage(p) != "compose"}
    assert not readers, f"modules importing assistant.config besides assistant/compose.py: {sorted(readers)}"


@pytest.mark.parametrize("stage", sorted(FORBIDDEN))
def test_every_stage_exists(stage):
    assert (PACKAGE / stage).is_dir() or (PACKAGE / f"{stage}.py").is_file(), f"{stage}: no such stage"


def test_no_setting_is_read_outside_the_composition_root():
    from assistant.config import Settings

    reads = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if _stage(path) in ("compose", "config"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id == "settings" and node.attr in Settings.model_fields):
                reads.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} settings.{node.attr}")
    assert not reads, "settings read outside assistant/compose.py:\n" + "\n".join(reads)
