"""Validated answers marked reusable become past-answer files that ingestion indexes.

File `HOME/answers/<question id>.yaml`:

    notice: Réponse validée par un conseiller du guichet vert le 2025-03-04 ...
    answers:
      - id: 12
        question: Puis-je exiger un label ?
        answer: Oui, ...
        sources: [Guide des achats responsables, p. 12]
        date: 2025-03-04
        tags: []

Example:
    >>> import tempfile, pathlib, datetime
    >>> home = pathlib.Path(tempfile.mkdtemp())
    >>> path = write_past_answer(home, 12, "Q ?", "R.", ["Guide, p. 3"], datetime.date(2025, 3, 4))
    >>> path.name
    '12.yaml'
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import yaml

NOTICE = (
    "Réponse validée par un conseiller du guichet vert le {date} ; les textes cités peuvent "
    "avoir changé depuis : vérifier qu'ils sont toujours en vigueur avant de la réutiliser."
)


def answers_dir(home: Path) -> Path:
    """Folder of the past-answer files."""
    return Path(home) / "answers"


def write_past_answer(
    home: Path, question_id: int, question: str, answer: str, sources: Sequence[str], day: date,
    tags: Sequence[str] = (),
) -> Path:
    """Write (atomically) the past-answer YAML file of one validated answer and return its path."""
    folder = answers_dir(home)
    folder.mkdir(parents=True, exist_ok=True)
    document = {
        "notice": NOTICE.format(date=day.isoformat()),
        "answers": [{
            "id": question_id, "question": question, "answer": answer, "sources": list(sources),
            "date": day.isoformat(), "tags": list(tags),
        }],
    }
    path = folder / f"{question_id}.yaml"
    tmp = path.with_suffix(".yaml.tmp")
    tmp.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100),
                   encoding="utf-8")
    os.replace(tmp, path)
    return path
