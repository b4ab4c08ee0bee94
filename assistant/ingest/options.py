"""What ingestion needs to know, built by `assistant.compose` from the settings.

Every default lives in `assistant.config.Settings`, none here.

Example:
    >>> limits = FileLimits(max_file_mb=50, timeout_s=120, memory_mb=2048, max_expanded_mb=200)
    >>> IngestConfig(chunk_size=900, chunk_overlap=150, prune=True, embed_batch_size=16,
    ...              synonyms_file=None, files=limits).chunking
    '900:150'
    >>> IngestConfig(chunk_size=900, chunk_overlap=-1, prune=True, embed_batch_size=16,
    ...              synonyms_file=None, files=limits)
    Traceback (most recent call last):
    ...
    assistant.errors.ConfigError: chunk_overlap must be >= 0, got -1
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from assistant.errors import ConfigError


def _positive(**values: float) -> None:
    for name, value in values.items():
        if not value > 0:
            raise ConfigError(f"{name} must be > 0, got {value}")


@dataclass(frozen=True)
class FileLimits:
    """What reading one file may cost; past a limit that file fails in one line.

    Args:
        max_file_mb: Size (1 MB = 1,048,576 bytes).
        timeout_s: Time of the text extraction.
        memory_mb: Memory the text extraction may allocate.
        max_expanded_mb: Unzipped size of a .docx.

    Raises:
        ConfigError: a limit that is not > 0.
    """

    max_file_mb: float
    timeout_s: float
    memory_mb: float
    max_expanded_mb: float

    def __post_init__(self) -> None:
        _positive(max_file_mb=self.max_file_mb, file_timeout_s=self.timeout_s, file_memory_mb=self.memory_mb,
                  max_expanded_mb=self.max_expanded_mb)


@dataclass(frozen=True)
class IngestConfig:
    """How files become chunks and vectors.

    Args:
        chunk_size: Target chunk length in characters.
        chunk_overlap: Characters shared by consecutive chunks (the chunker takes at most half a chunk).
        prune: Forget indexed files that are gone from the folders ingested.
        embed_batch_size: Chunks embedded per batch.
        synonyms_file: Extra acronyms and synonyms of the French analyser (None: none).
        files: The limits of reading one file.

    Raises:
        ConfigError: a size or batch that is not > 0, or a negative overlap.
    """

    chunk_size: int
    chunk_overlap: int
    prune: bool
    embed_batch_size: int
    synonyms_file: Path | None
    files: FileLimits

    def __post_init__(self) -> None:
        _positive(chunk_size=self.chunk_size, embed_batch_size=self.embed_batch_size)
        if self.chunk_overlap < 0:
            raise ConfigError(f"chunk_overlap must be >= 0, got {self.chunk_overlap}")

    @property
    def chunking(self) -> str:
        """Size and overlap as the catalog records them (with the chunker's version)."""
        return f"{self.chunk_size}:{self.chunk_overlap}"
