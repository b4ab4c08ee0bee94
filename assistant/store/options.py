"""Where the knowledge index lives, built by `assistant.compose` from the settings.

Every default lives in `assistant.config.Settings`, none here.

Example:
    >>> config = IndexConfig(home=Path("index"), embedder="e5-small")
    >>> config.catalog_path, config.chroma_path, config.lexical_path
    (PosixPath('index/catalog.sqlite'), PosixPath('index/chroma'), PosixPath('index/lexical'))
    >>> IndexConfig(home=Path("index"), embedder="")
    Traceback (most recent call last):
    ...
    assistant.errors.ConfigError: the index needs an embedder name (GUICHET_EMBEDDER), got ''
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from assistant.errors import ConfigError


@dataclass(frozen=True)
class IndexConfig:
    """The index's location and embedder, checked when built.

    Args:
        home: Data directory (catalog, embedded Chroma, lexical cache, lock file).
        embedder: Embedding backend name (see `assistant.embeddings.factory`).
        database_url: A shared database for the catalog ("" = the SQLite file in `home`).
        chroma_url: A Chroma server ("" = Chroma embedded in `home`).
        chroma_token: The Chroma server's token ("" = none); never shown in `repr`.

    Raises:
        ConfigError: no embedder name, in one line.
    """

    home: Path
    embedder: str
    database_url: str = ""
    chroma_url: str = ""
    chroma_token: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        if not self.embedder:
            raise ConfigError(f"the index needs an embedder name (GUICHET_EMBEDDER), got {self.embedder!r}")

    @property
    def catalog_path(self) -> Path:
        """The SQLite catalog (used when `database_url` is empty)."""
        return self.home / "catalog.sqlite"

    @property
    def chroma_path(self) -> Path:
        """The embedded Chroma folder (used when `chroma_url` is empty)."""
        return self.home / "chroma"

    @property
    def lexical_path(self) -> Path:
        """The saved BM25 index."""
        return self.home / "lexical"
