"""Chroma behind the `VectorStore` protocol: persistent client by default, HTTP client to scale.

Example:
    >>> store = ChromaStore.persistent(Path("index/chroma"), embedder="e5-small")            # doctest: +SKIP
    >>> store = ChromaStore.server("http://chroma:8000", embedder="e5-small", token="s3cr3t")  # doctest: +SKIP
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence, TypeVar
from urllib.parse import urlsplit

import numpy as np

from assistant.embeddings.windows import space_mismatch
from assistant.errors import ConfigError, GuichetError, IndexMismatch
from assistant.store.catalog import schema_mismatch

COLLECTION = "chunks"
#: Metadata key of a chunk's packed window vectors (see `pack_windows`).
WINDOWS_KEY = "windows"
SCHEMA = 1
_BATCH = 2000  # stay under Chroma's maximum batch size
#: HNSW search breadth. Chroma's default (100) returned 96 % of the exact 50 nearest chunks on
#: the dev questions, and not the same ones from one process to the next; 400 returns 99.8 %,
#: identically every time (measured on ../shared/corpus/minumeco, 970 chunks).
EF_SEARCH = 400
_T = TypeVar("_T")


class ChromaStore:
    """Chunk vectors in a Chroma collection that records which embedder built it.

    Args:
        client: A chromadb client (persistent or HTTP).
        embedder: Name of the embedder the caller will use; an existing collection built with
            another embedder raises IndexMismatch.
        url: The server's URL for a client over HTTP (used in error messages), else None.

    Example:
        >>> store = ChromaStore.persistent(Path("index/chroma"), embedder="e5-small")  # doctest: +SKIP
        >>> store.query(vector, k=3, where={"kind": "answer"})                          # doctest: +SKIP
        [('9f2c...', 0.83)]
    """

    def __init__(self, client, embedder: str, url: str | None = None) -> None:
        self.embedder = embedder
        self.url = url
        self._client = client
        self._catalog_id: str | None = None
        self._collection = self._guard(lambda: client.get_or_create_collection(
            COLLECTION, embedding_function=None,
            configuration={"hnsw": {"space": "cosine", "ef_search": EF_SEARCH}},
            metadata={"embedder": embedder, "schema": SCHEMA}))
        self._check(self._collection)
        self._widen_search(self._collection)

    def _check(self, collection) -> None:
        meta = collection.metadata or {}
        if meta.get("schema") != SCHEMA:
            where = f"on the Chroma server {self.url}" if self.url else "in GUICHET_HOME"
            raise schema_mismatch(f"the vector index {where}", meta.get("schema"), SCHEMA)
        if meta.get("embedder") != self.embedder:
            raise IndexMismatch(space_mismatch(str(meta.get("embedder")), self.embedder))

    def _widen_search(self, collection) -> None:
        """Raise the search breadth of a collection made with a narrower one (it is mutable)."""
        hnsw = (collection.configuration or {}).get("hnsw") or {}
        if hnsw.get("ef_search", EF_SEARCH) < EF_SEARCH:
            self._guard(lambda: collection.modify(configuration={"hnsw": {"ef_search": EF_SEARCH}}))

    def bind(self, catalog_id: str) -> None:
        """Pair the collection with the catalog that owns its vectors (recorded on first use).

        Ingestion deletes every vector its catalog does not own, so a catalog must never work on
        another catalog's collection: two app processes pointed at one Chroma server but each
        with its own SQLite catalog would delete each other's vectors.

        Raises:
            IndexMismatch: the collection belongs to another catalog.
        """
        meta = dict(self._collection.metadata or {})
        owner = meta.get("catalog")
        if owner is None:
            meta["catalog"] = catalog_id
            self._run(lambda c: c.modify(metadata=meta))
        elif owner != catalog_id:
            where = f"on the Chroma server {self.url}" if self.url else "in GUICHET_HOME"
            raise IndexMismatch(f"the vector index {where} belongs to another catalog: give every app process "
                                "the same GUICHET_DATABASE_URL (the catalog is shared there), or run "
                                "'guichet ingest --rebuild PATH...'")
        self._catalog_id = catalog_id

    @classmethod
    def persistent(cls, path: Path, embedder: str) -> "ChromaStore":
        """An embedded Chroma database in `path` (created if missing)."""
        return cls(_persistent_client(path), embedder)

    @classmethod
    def server(cls, url: str, embedder: str, token: str = "") -> "ChromaStore":
        """The collection on a Chroma server (`chroma run`), shared by every app process.

        Args:
            url: `http://HOST:PORT` or `https://HOST[:PORT][/PREFIX]` (a prefix when a reverse
                proxy serves Chroma under a path).
            embedder: As for the constructor.
            token: Sent as `Authorization: Bearer TOKEN` on every request (empty: none).

        Raises:
            ConfigError: the URL is not http(s).
            GuichetError: the server cannot be reached, or refuses the token.
        """
        return cls(_http_client(url, token), embedder, url=url)

    @staticmethod
    def drop(path: Path) -> None:
        """Delete the chunk collection of the embedded database in `path`, if any."""
        if path.exists():
            _drop_collection(_persistent_client(path))

    @staticmethod
    def drop_server(url: str, token: str = "") -> None:
        """Delete the chunk collection on a Chroma server, if any (`guichet ingest --rebuild`)."""
        _drop_collection(_http_client(url, token))

    def upsert(self, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[Mapping[str, str]],
               windows: Sequence[np.ndarray] | None = None) -> None:
        stored = [dict(m) for m in metadatas]
        if windows is not None:
            for meta, part in zip(stored, windows, strict=True):
                meta[WINDOWS_KEY] = pack_windows(part)
        for i in range(0, len(ids), _BATCH):
            self._run(lambda c: c.upsert(ids=list(ids[i:i + _BATCH]), embeddings=vectors[i:i + _BATCH],
                                         metadatas=stored[i:i + _BATCH]))

    def windows_of(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """{chunk id: its (windows, dim) window vectors} of the stored ids among `ids`.

        A chunk stored without windows (by a caller that gave none) has its chunk vector as its
        one window.
        """
        found: dict[str, np.ndarray] = {}
        for i in range(0, len(ids), _BATCH):
            part = list(ids[i:i + _BATCH])
            got = self._run(lambda c: c.get(ids=part, include=["metadatas"]))
            packed = {id_: (meta or {}).get(WINDOWS_KEY) for id_, meta in zip(got["ids"], got["metadatas"])}
            bare = [id_ for id_, value in packed.items() if not value]
            if bare:
                plain = self._run(lambda c: c.get(ids=bare, include=["embeddings"]))
                found.update((id_, np.asarray(v, dtype=np.float32)[None, :])
                             for id_, v in zip(plain["ids"], plain["embeddings"]))
            found.update((id_, unpack_windows(value)) for id_, value in packed.items() if value)
        return found

    def delete(self, ids: Sequence[str]) -> None:
        for i in range(0, len(ids), _BATCH):
            self._run(lambda c: c.delete(ids=list(ids[i:i + _BATCH])))

    def existing(self, ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for i in range(0, len(ids), _BATCH):
            found.update(self._run(lambda c: c.get(ids=list(ids[i:i + _BATCH]), include=[]))["ids"])
        return found

    def count(self) -> int:
        return self._run(lambda c: c.count())

    def all_ids(self) -> set[str]:
        found: set[str] = set()
        offset = 0
        while True:
            page = self._run(lambda c: c.get(include=[], limit=_BATCH, offset=offset))["ids"]
            found.update(page)
            if len(page) < _BATCH:
                return found
            offset += _BATCH

    def query(self, vector: np.ndarray, k: int,
              where: Mapping[str, object] | None = None) -> list[tuple[str, float]]:
        if k <= 0:  # Chroma itself returns fewer ids when it holds fewer than k
            return []
        result = self._run(lambda c: c.query(query_embeddings=[np.asarray(vector, dtype=np.float32)],
                                             n_results=k, where=dict(where) if where else None,
                                             include=["distances"]))
        return [(id_, 1.0 - float(dist)) for id_, dist in zip(result["ids"][0], result["distances"][0])]

    def _run(self, operation: Callable[[Any], _T]) -> _T:
        """Run an operation on the collection, reopening it once if a rebuild replaced it."""
        from chromadb.errors import NotFoundError

        try:
            return self._guard(lambda: operation(self._collection))
        except NotFoundError:
            # `guichet ingest --rebuild` in another process dropped the collection and made a new
            # one: follow it (never create it here, the rebuild decides its embedder).
            try:
                collection = self._guard(lambda: self._client.get_collection(
                    COLLECTION, embedding_function=None))
            except NotFoundError:
                raise IndexMismatch("the vector index was deleted (is 'guichet ingest --rebuild' "
                                    "running?): wait for it, or run 'guichet ingest PATH...'") from None
            self._check(collection)
            self._collection = collection
            if self._catalog_id is not None:
                self.bind(self._catalog_id)
            return self._guard(lambda: operation(self._collection))

    def _guard(self, call: Callable[[], _T]) -> _T:
        """Turn a lost connection to the Chroma server into one clear line."""
        if self.url is None:
            return call()
        import httpx

        try:
            return call()
        except httpx.TransportError as exc:
            raise GuichetError(_unreachable(self.url, exc)) from None


def pack_windows(vectors: np.ndarray) -> str:
    """Window vectors as a short string: int8 per component with one float16 scale per row.

    About 0.5 KB of text per window (float32 would take 2 KB), for a cosine error under 0.005.

    Example:
        >>> v = np.array([[0.6, -0.8], [1.0, 0.0]], dtype=np.float32)
        >>> np.allclose(unpack_windows(pack_windows(v)), v, atol=0.01)
        True
    """
    vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
    scale = np.abs(vectors).max(axis=1, keepdims=True) / 127.0
    scale[scale == 0] = 1.0
    codes = np.round(vectors / scale).astype(np.int8)
    header = np.array(vectors.shape, dtype=np.uint16).tobytes()
    return base64.b64encode(header + scale.astype(np.float16).tobytes() + codes.tobytes()).decode("ascii")


def unpack_windows(packed: str) -> np.ndarray:
    """The L2-normalised (windows, dim) float32 matrix `pack_windows` wrote."""
    raw = base64.b64decode(packed)
    rows, dim = np.frombuffer(raw[:4], dtype=np.uint16)
    scale = np.frombuffer(raw[4:4 + 2 * rows], dtype=np.float16).astype(np.float32)[:, None]
    codes = np.frombuffer(raw[4 + 2 * rows:], dtype=np.int8).reshape(rows, dim).astype(np.float32)
    vectors = codes * scale
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)


def _persistent_client(path: Path):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=ChromaSettings(anonymized_telemetry=False))


def _drop_collection(client) -> None:
    if COLLECTION in [c.name for c in client.list_collections()]:
        client.delete_collection(COLLECTION)


def parse_url(url: str) -> tuple[str, int, bool, str]:
    """(host, port, ssl, path prefix) of a Chroma server URL.

    A URL without a port uses its scheme's port (80, 443): write the port Chroma listens on.

    Raises:
        ConfigError: not an http(s) URL with a host.

    Example:
        >>> parse_url("http://127.0.0.1:8000")
        ('127.0.0.1', 8000, False, '')
        >>> parse_url("https://vecteurs.example.org/chroma/")
        ('vecteurs.example.org', 443, True, '/chroma')
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"invalid GUICHET_CHROMA_URL {url!r}: write http://HOST:PORT or https://HOST[:PORT]")
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(f"invalid GUICHET_CHROMA_URL {url!r}: the port is not a number in 1-65535") from None
    ssl = parts.scheme == "https"
    return parts.hostname, port or (443 if ssl else 80), ssl, parts.path.rstrip("/")


def _http_client(url: str, token: str = ""):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    host, port, ssl, prefix = parse_url(url)
    options: dict[str, Any] = {"anonymized_telemetry": False}
    if token:
        # Chroma's own token client: "Authorization: Bearer TOKEN", checked by the proxy in front
        # of the server (`chroma run` 1.x does not check tokens itself).
        options.update(chroma_client_auth_provider="chromadb.auth.token_authn.TokenAuthClientProvider",
                       chroma_client_auth_credentials=token)
    if prefix:  # served under a path by a reverse proxy: chromadb takes a full URL as host
        host = f"{'https' if ssl else 'http'}://{host}:{port}{prefix}"
    try:
        return chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=ChromaSettings(**options))
    except Exception as exc:  # noqa: BLE001 - chromadb hides the HTTP status: find it out below
        raise GuichetError(_diagnose(url, token, exc)) from None


def _unreachable(url: str, exc: BaseException) -> str:
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"cannot reach the Chroma server at {url}: is `chroma run` started? ({reason})"


def _diagnose(url: str, token: str, exc: BaseException) -> str:
    """One line saying why a Chroma client could not be made (chromadb only says it failed)."""
    import httpx

    host, port, ssl, prefix = parse_url(url)
    base = f"{'https' if ssl else 'http'}://{host}:{port}{prefix}/api/v2"
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        status = httpx.get(f"{base}/tenants/default_tenant", headers=headers, timeout=10).status_code
    except httpx.HTTPError as probe:
        return _unreachable(url, probe)
    if status in (401, 403):
        what = "refused the token in GUICHET_CHROMA_TOKEN" if token else "asks for a token"
        return f"the Chroma server at {url} {what} (HTTP {status}): set GUICHET_CHROMA_TOKEN to a valid token"
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"the Chroma server at {url} answered HTTP {status}: {reason}"
