"""Start and stop the real servers of the `server` tests, and child-process bodies.

Imported by conftest.py (fixtures), by the tests, and by the child processes that
`multiprocessing` spawns (hence a module of its own, with a name no other test folder uses).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
from support import free_port, validate_at_barrier

ROOT = Path(__file__).resolve().parents[2]
GUIDES = ROOT / "corpus" / "guides"
#: Three small real guides of the bundled corpus (about 15 chunks): the suite stays fast.
SMALL_GUIDES = ("exiger-un-label.md", "don-materiel-informatique.md", "deee-recyclage.md")
#: How PostgreSQL gets installed where it is missing (what .ci/run does).
POSTGRES_INSTALL = "apt-get install -y postgresql"


def wait_until(check, seconds: float, what: str, process: subprocess.Popen | None = None,
               log: Path | None = None) -> None:
    """Poll `check()` until it is true; fail with the server's log when it never is."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            break
        try:
            if check():
                return
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
    raise RuntimeError(f"{what} did not start within {seconds:.0f} s\n{tail}")


# ---------------------------------------------------------------------- Chroma


@dataclass
class ChromaServer:
    """A real `chroma run` on a loopback port, with its own data folder."""

    url: str
    process: subprocess.Popen
    root: Path

    @classmethod
    def start(cls) -> "ChromaServer":
        chroma = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
        if not Path(chroma).exists():
            raise RuntimeError("the `chroma` command is missing: pip install chromadb (it comes with it)")
        root = Path(tempfile.mkdtemp(prefix="guichet-chroma-"))
        port = free_port()
        log = root / "chroma.log"
        with open(log, "wb") as out:
            process = subprocess.Popen([chroma, "run", "--path", str(root / "data"), "--host", "127.0.0.1",
                                        "--port", str(port)], stdout=out, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until(lambda: httpx.get(f"{url}/api/v2/heartbeat", timeout=2).status_code == 200, 60,
                       "chroma run", process, log)
        except BaseException:
            process.kill()
            raise
        return cls(url, process, root)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def drop_chunks_collection(url: str) -> None:
    """Start a test on an empty Chroma server (the collection is the store's whole state)."""
    from assistant.store.chroma import ChromaStore

    ChromaStore.drop_server(url)


# ---------------------------------------------------------------------- PostgreSQL


def _as_postgres_user(command: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root: use the system's 'postgres' account then.
    if os.geteuid() != 0:
        return command
    return ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(f"'{c}'" for c in command)]


@dataclass
class PostgresServer:
    """A throwaway PostgreSQL cluster (initdb + pg_ctl) on a loopback port, trust auth."""

    url: str  # without database name
    data: Path
    root: Path

    @classmethod
    def start(cls) -> "PostgresServer":
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
        path = os.pathsep.join([os.environ.get("PATH", "")] + [str(b) for b in bins[-1:]])
        initdb, pg_ctl = shutil.which("initdb", path=path), shutil.which("pg_ctl", path=path)
        if not (initdb and pg_ctl):
            raise RuntimeError(f"PostgreSQL server binaries (initdb, pg_ctl) are missing: {POSTGRES_INSTALL} "
                               "(as .ci/run does), or set SERVER_TEST_POSTGRES_URL")
        root = Path(tempfile.mkdtemp(prefix="guichet-pg-"))
        os.chmod(root, 0o777)
        data, port = root / "data", free_port()
        subprocess.run(_as_postgres_user([initdb, "-D", str(data), "-A", "trust", "-U", "guichet"]),
                       check=True, capture_output=True)
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        subprocess.run(_as_postgres_user([pg_ctl, "-D", str(data), "-o", options, "-l", str(root / "log"),
                                          "-w", "start"]), check=True, capture_output=True)
        server = cls(f"postgresql+psycopg://guichet@127.0.0.1:{port}", data, root)
        server._pg_ctl = pg_ctl
        return server

    def stop(self) -> None:
        subprocess.run(_as_postgres_user([self._pg_ctl, "-D", str(self.data), "-m", "immediate", "stop"]),
                       capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)


def new_database(server_url: str, prefix: str = "guichet") -> str:
    """A fresh empty database on the server; returns its SQLAlchemy URL."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    plain = server_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(f"{plain}/postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return f"{server_url}/{name}"


# ---------------------------------------------------------------------- child processes


def child_env(**settings: str) -> dict[str, str]:
    """The environment of a child process: this one's, with these GUICHET_* settings only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUICHET_")}
    env.update({f"GUICHET_{k.upper()}": v for k, v in settings.items()})
    return env


def guichet(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the real `guichet` CLI (`python -m assistant`) in a separate process."""
    return subprocess.run([sys.executable, "-m", "assistant", *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def race_validate(env: dict[str, str], name: str, items: list[tuple[int, int]], barrier, results) -> None:
    """Child-process body: an advisor validating each (question id, version seen) at the barrier."""
    os.environ.clear()
    os.environ.update(env)
    from assistant.config import get_settings
    from assistant.compose import review_service

    service = review_service(get_settings())
    outcome = validate_at_barrier(service, name, items, barrier)
    service.close()
    results.put((name, outcome))


def hold_ingest_lock(env: dict[str, str], held, release) -> None:
    """Child-process body: hold the ingestion lock of the shared catalog until `release` is set."""
    os.environ.clear()
    os.environ.update(env)
    from assistant.compose import index_config
    from assistant.config import get_settings
    from assistant.store.catalog import open_catalog

    catalog = open_catalog(index_config(get_settings()))
    with catalog.writer_lock():
        held.set()
        release.wait(timeout=60)
    catalog.close()


# ---------------------------------------------------------------------- token-checking proxy


class TokenProxy:
    """A reverse proxy that lets through only `Authorization: Bearer TOKEN`, as nginx or Caddy do
    in front of `chroma run` (which checks no token itself), and forwards to the Chroma server.

    Example:
        >>> proxy = TokenProxy("http://127.0.0.1:8000", "s3cr3t").start()   # doctest: +SKIP
    """

    def __init__(self, upstream: str, token: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.token = token
        self.seen: list[str | None] = []
        self._server = None

    def start(self) -> "TokenProxy":
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                auth = self.headers.get("Authorization")
                proxy.seen.append(auth)
                if auth != f"Bearer {proxy.token}":
                    self._reply(401, b'{"error": "Unauthorized", "message": "bad token"}', "application/json")
                    return
                headers = {"Content-Type": self.headers.get("Content-Type", "application/json")}
                answer = httpx.request(self.command, proxy.upstream + self.path, content=body, headers=headers,
                                       timeout=60)
                self._reply(answer.status_code, answer.content, answer.headers.get("content-type", "application/json"))

            def _reply(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _forward

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
