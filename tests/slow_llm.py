"""A FAKE, SLOW OpenAI-compatible endpoint on loopback, for what a real llama.cpp server cannot show.

It stands in for an LLM endpoint that takes long to answer (30 s in the benchmark) or that is
held until the test says so, and it counts the requests it received. Its answer quotes the first
sentence of passage [1] of the prompt with the marker [1], so the real `llm` generator's citation
checks pass; with `"stream": true` it sends that answer word by word as server-sent events, as
vLLM, Ollama and llama.cpp do. Tests that need a real model's text use the llama.cpp server of
`tests/drafting/llama_server.py` instead.

Example:
    >>> with SlowLLM(delay_s=30) as llm:          # doctest: +SKIP
    ...     settings = Settings(generator="llm", llm_base_url=llm.base_url, llm_model=llm.model)
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODEL = "slow-fake-llm"
_FIRST_PASSAGE = re.compile(r"<passages>\s*\[1\][^\n]*\n(.+?)(?:\n\n\[2\]|\n</passages>)", re.S)


def answer_for(prompt: str) -> str:
    """The first sentence of passage [1] followed by [1], or a refusal without a marker."""
    found = _FIRST_PASSAGE.search(prompt)
    if not found:
        return "Les passages ne permettent pas de répondre."
    sentence = re.split(r"(?<=[.!?])\s", " ".join(found.group(1).split()), maxsplit=1)[0]
    return f"{sentence} [1]"


class SlowLLM:
    """The fake endpoint, started by `with` (or `start`) on a free loopback port.

    Args:
        delay_s: Seconds every request waits before its answer starts.
        hold: When set, requests wait until `release()` (after their delay).
    """

    def __init__(self, delay_s: float = 0.0, hold: bool = False) -> None:
        self.delay_s = delay_s
        self.released = threading.Event()
        if not hold:
            self.released.set()
        self.requests = 0
        self.answered = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        self.model = MODEL

    def start(self) -> "SlowLLM":
        threading.Thread(target=self._server.serve_forever, name="slow-llm", daemon=True).start()
        return self

    def stop(self) -> None:
        self.released.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "SlowLLM":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def release(self) -> None:
        """Let held requests (and every later one) answer."""
        self.released.set()

    def wait_requests(self, n: int, timeout_s: float = 60.0) -> None:
        """Block until `n` requests arrived (AssertionError after `timeout_s`)."""
        deadline = time.monotonic() + timeout_s
        while self.requests < n:
            assert time.monotonic() < deadline, f"the fake LLM got {self.requests} request(s), expected {n}"
            time.sleep(0.02)

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def _json(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 - http.server's hook name
                if self.path.rstrip("/").endswith("/models"):
                    return self._json(200, {"object": "list", "data": [{"id": MODEL, "object": "model"}]})
                self._json(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:  # noqa: N802
                if not self.path.endswith("/chat/completions"):
                    return self._json(404, {"error": {"message": "not found"}})
                request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                with fake._lock:
                    fake.requests += 1
                time.sleep(fake.delay_s)
                fake.released.wait()
                prompt = "\n".join(str(m.get("content", "")) for m in request.get("messages", []))
                text = answer_for(prompt)
                try:
                    if request.get("stream"):
                        self._stream(text)
                    else:
                        self._json(200, {
                            "id": "fake-1", "object": "chat.completion", "created": int(time.time()), "model": MODEL,
                            "choices": [{"index": 0, "finish_reason": "stop",
                                         "message": {"role": "assistant", "content": text}}],
                            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})
                except (BrokenPipeError, ConnectionResetError):
                    return  # the client went away (a test killed it)
                with fake._lock:
                    fake.answered += 1

            def _stream(self, text: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                pieces = re.findall(r"\S+\s*", text)
                for piece in pieces:
                    self._event({"delta": {"content": piece}, "finish_reason": None})
                    time.sleep(0.02)
                self._event({"delta": {}, "finish_reason": "stop"})
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

            def _event(self, choice: dict) -> None:
                chunk = {"id": "fake-1", "object": "chat.completion.chunk", "created": int(time.time()),
                         "model": MODEL, "choices": [{"index": 0, **choice}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()

        return Handler
