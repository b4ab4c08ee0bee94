"""Constants and helpers of the web app tests, imported by name (`from conftest import` could
resolve to another test package's conftest.py, whichever was imported first)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from argon2 import PasswordHasher
from support import free_port

from assistant.config import Settings

ROOT = Path(__file__).resolve().parents[2]
#: Password of the advisors the fixtures create.
PASSWORD = "mot-de-passe-de-test"
#: Real argon2id with small costs (the server verifies with whatever parameters the hash carries).
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def settings_for(home: Path) -> Settings:
    return Settings(home=home)


def copy_index(template: Path, home: Path) -> Path:
    shutil.copytree(template, home, dirs_exist_ok=True)
    return home


def forget_limits(home: Path) -> None:
    """Delete every rate-limit hit and failed login in home's review database.

    The limits live in the database every process of that home shares, so an app that several
    tests share would otherwise carry one test's wrong logins or questions into the next one.
    """
    from sqlalchemy import delete

    from assistant.review.models import LimitHitRow
    from assistant.compose import review_service

    service = review_service(settings_for(home))
    try:
        with service.store.write() as session:
            session.execute(delete(LimitHitRow))
    finally:
        service.close()


@dataclass
class Server:
    """The real app running in a subprocess."""

    url: str
    home: Path
    process: subprocess.Popen
    log: Path

    def service(self):
        from assistant.compose import review_service

        return review_service(settings_for(self.home), password_hasher=FAST_HASHER)

    def ask(self, question: str, email: str = "", organisation: str = "", timeout: float = 60.0) -> list:
        """A buyer question through the public API (plain HTTP); returns the endpoint's outputs."""
        return call_poser(self.url, [question, email, organisation], timeout=timeout)


def call_poser(url: str, data: list, headers: dict[str, str] | None = None, timeout: float = 60.0) -> list:
    """The buyer endpoint /poser through Gradio's call API; returns its outputs."""
    with httpx.Client(base_url=url, timeout=timeout, headers=headers) as client:
        event = client.post("/gradio_api/call/poser", json={"data": data})
        event.raise_for_status()
        with client.stream("GET", f"/gradio_api/call/poser/{event.json()['event_id']}") as stream:
            kind = None
            for line in stream.iter_lines():
                if line.startswith("event:"):
                    kind = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and kind in ("complete", "error"):
                    data = json.loads(line.split(":", 1)[1])
                    assert kind == "complete", f"the buyer endpoint failed: {data}"
                    return data
    raise AssertionError("the buyer endpoint closed without a result")


#: How long an app may take to answer /sante: the machine is shared, and a loaded one starts it in minutes.
START_SECONDS = 180


def start_server(home: Path, *extra: str, env: dict[str, str] | None = None, log_name: str = "server.log") -> Server:
    """`guichet serve` on a free port with GUICHET_HOME=home and the `env` variables on top."""
    port = free_port()
    variables = {k: v for k, v in os.environ.items() if not k.startswith("GUICHET_")}
    # Gradio's temporary files in the data directory, where the tests look for what it wrote.
    variables.update(GUICHET_HOME=str(home), GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1",
                     GRADIO_TEMP_DIR=str(home / "gradio-tmp"), **(env or {}))
    log = home / log_name
    out = log.open("a")
    process = subprocess.Popen([sys.executable, "-m", "assistant", "serve", "--port", str(port), *extra],
                               cwd=ROOT, env=variables, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the app exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/sante", timeout=5).status_code == 200:
                return Server(url, home, process, log)
        except httpx.HTTPError:
            time.sleep(0.3)
    process.kill()
    raise AssertionError(f"the app did not answer within {START_SECONDS} s:\n{log.read_text()}")


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()


def drafted(desk, question_id: int, timeout_s: float = 60.0):
    """The question once its draft job has ended (the desk's background threads draft it)."""
    deadline = time.monotonic() + timeout_s
    while True:
        detail = desk.show(question_id)
        if not detail.drafting:
            return detail
        assert time.monotonic() < deadline, f"question {question_id} still not drafted after {timeout_s} s: {detail.job}"
        time.sleep(0.05)
