"""`ChromaStore` over HTTP against a real `chroma run`: same behaviour as the embedded store."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.errors import ConfigError, GuichetError, IndexMismatch
from assistant.store.chroma import ChromaStore
from server_helpers import TokenProxy, child_env, guichet
from support import free_port

pytestmark = pytest.mark.server


def unit(rows):
    rows = np.asarray(rows, dtype=np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


VECTORS = unit([[1, 0, 0], [0, 1, 0], [1, 1, 0]])
METADATAS = [{"kind": "guide", "source": "/x"}, {"kind": "answer", "source": "/y"}, {"kind": "guide", "source": "/x"}]


def test_upsert_query_filter_delete_over_http(servers):
    store = ChromaStore.server(servers.chroma_url, embedder="e5-small")
    assert store.query(VECTORS[0], k=5) == [], "an empty collection answers nothing"
    store.upsert(["a", "b", "c"], VECTORS, METADATAS)
    hits = store.query(VECTORS[0], k=10)
    assert [h[0] for h in hits][:2] == ["a", "c"], f"nearest first: {hits}"
    assert hits[0][1] == pytest.approx(1.0, abs=1e-5), "score is cosine similarity"
    assert [h[0] for h in store.query(VECTORS[0], k=5, where={"kind": "answer"})] == ["b"]
    assert [h[0] for h in store.query(VECTORS[0], k=5, where={"source": {"$in": ["/x"]}})] == ["a", "c"]
    assert store.existing(["a", "zz"]) == {"a"}
    store.delete(["a", "missing"])
    assert store.all_ids() == {"b", "c"}
    other = ChromaStore.server(servers.chroma_url, embedder="e5-small")
    assert other.all_ids() == {"b", "c"}, "a second client (another app process) sees the same vectors"


def test_all_ids_pages_through_large_collections(servers):
    store = ChromaStore.server(servers.chroma_url, embedder="e5-small")
    ids = [f"c{i:05d}" for i in range(4500)]
    vectors = unit(np.random.default_rng(0).normal(size=(len(ids), 8)))
    store.upsert(ids, vectors, [{"kind": "guide", "source": "/big"}] * len(ids))
    assert store.all_ids() == set(ids), "every page of ids comes back (batches of 2000)"
    assert len(store.existing(ids)) == len(ids)


def test_reopening_with_another_embedder_is_refused(servers):
    ChromaStore.server(servers.chroma_url, embedder="e5-small")
    with pytest.raises(IndexMismatch, match="built with 'e5-small'.*'minilm'.*--rebuild"):
        ChromaStore.server(servers.chroma_url, embedder="minilm")


def test_token_is_sent_as_bearer_and_checked_by_the_proxy(servers):
    proxy = TokenProxy(servers.chroma_url, "jeton-secret").start()
    try:
        store = ChromaStore.server(proxy.url, embedder="e5-small", token="jeton-secret")
        store.upsert(["a"], VECTORS[:1], METADATAS[:1])
        assert store.query(VECTORS[0], k=1)[0][0] == "a", "requests pass through the proxy"
        assert proxy.seen and set(proxy.seen) == {"Bearer jeton-secret"}, f"headers seen: {set(proxy.seen)}"
        with pytest.raises(GuichetError, match="refused the token") as info:
            ChromaStore.server(proxy.url, embedder="e5-small", token="mauvais")
        assert "mauvais" not in str(info.value) and "jeton-secret" not in str(info.value), "never print tokens"
        with pytest.raises(GuichetError, match="asks for a token.*GUICHET_CHROMA_TOKEN"):
            ChromaStore.server(proxy.url, embedder="e5-small")
    finally:
        proxy.stop()


def test_unreachable_server_gives_one_clear_line(isolated_home):
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(GuichetError) as info:
        ChromaStore.server(url, embedder="e5-small")
    message = str(info.value)
    assert message.startswith(f"cannot reach the Chroma server at {url}: is `chroma run` started?"), message
    assert "\n" not in message, message
    result = guichet(["search", "label", "--json"], child_env(home=str(isolated_home), chroma_url=url))
    assert result.returncode == 2 and "cannot reach the Chroma server" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr, result.stderr


def test_server_stopping_mid_run_gives_one_clear_line(servers):
    from server_helpers import ChromaServer

    own = ChromaServer.start()
    store = ChromaStore.server(own.url, embedder="e5-small")
    store.upsert(["a"], VECTORS[:1], METADATAS[:1])
    own.stop()
    with pytest.raises(GuichetError, match="cannot reach the Chroma server"):
        store.query(VECTORS[0], k=1)


@pytest.mark.parametrize("url,fragment", [
    ("127.0.0.1:8000", "http://HOST:PORT"),
    ("ftp://chroma:8000", "http://HOST:PORT"),
    ("http://chroma:99999", "port"),
])
def test_bad_url_is_refused(url, fragment):
    with pytest.raises(ConfigError, match="GUICHET_CHROMA_URL") as info:
        ChromaStore.server(url, embedder="e5-small")
    assert fragment in str(info.value)


def test_unreachable_database_gives_one_clear_line(postgres_url):
    from assistant.store.catalog import Catalog

    dead = postgres_url.rsplit(":", 1)[0] + f":{free_port()}/nowhere"
    with pytest.raises(GuichetError) as info:
        Catalog(dead)
    message = str(info.value)
    assert message.startswith("cannot reach the catalog database at") and "\n" not in message, message
