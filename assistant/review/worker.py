"""Background drafting: threads inside an app process that claim and run draft jobs.

Each thread asks the review service for one due job at a time (`draft_pending`), so several
threads and several processes share the queue without drafting a question twice (see
`review.jobs`). An idle thread waits `poll_s` or until `wake()` (called when this process
queues a job). Buyers come first: while `defer()` says acknowledgements are being made (see
`BuyerActivity`), a thread waits before its next job (`MAX_DEFER_S` at most, so drafts still
progress under a constant load). A locked database or any other error is logged and retried after a pause:
the worker never stops on its own.

Example:
    >>> worker = DraftWorker(service, threads=2)     # doctest: +SKIP
    >>> worker.start(); ...; worker.stop()           # doctest: +SKIP
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from assistant.review.errors import DatabaseBusy

log = logging.getLogger(__name__)

#: Seconds between looks at the queue when nothing woke the worker (jobs queued by another process).
POLL_S = 2.0
#: Pause after a failure to claim (locked database, lost connection) before looking again.
ERROR_PAUSE_S = 5.0
#: Longest wait for the acknowledgements in progress before the next draft (seconds).
MAX_DEFER_S = 2.0
#: Buyers count as active this long after their last acknowledgement (seconds): the gaps between
#: the acknowledgements of a burst, while the web server reads and answers requests.
QUIET_S = 0.5


class BuyerActivity:
    """Counts the acknowledgements in progress; `busy()` is the drafting threads' `defer`.

    The web server's own work around each acknowledgement (HTTP, queue, the event stream) runs
    between the counted parts: a draft started in such a gap would share the interpreter with
    the rest of the burst, so buyers stay active `quiet_s` after the last one ended.

    Example:
        >>> activity = BuyerActivity()
        >>> with activity:
        ...     activity.busy()
        True
    """

    def __init__(self, quiet_s: float = QUIET_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.quiet_s = quiet_s
        self._clock = clock
        self._lock = threading.Lock()
        self._active = 0
        self._ended = float("-inf")

    def __enter__(self) -> "BuyerActivity":
        with self._lock:
            self._active += 1
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._active -= 1
            self._ended = self._clock()

    def busy(self) -> bool:
        """True while an acknowledgement is being made or one ended less than `quiet_s` ago."""
        return self._active > 0 or self._clock() - self._ended < self.quiet_s


class DraftWorker:
    """Drafting threads over one `ReviewService`.

    Args:
        service: The review service (its drafter, owner id and job table).
        threads: How many drafts may be written at once (LLM requests wait on the network).
        poll_s: Seconds between looks at the queue when idle.
        defer: True while drafting should wait (buyers are being acknowledged in this process).
    """

    def __init__(self, service: Any, threads: int = 2, poll_s: float = POLL_S,
                 defer: Callable[[], bool] | None = None) -> None:
        self.service = service
        self.threads = threads
        self.poll_s = poll_s
        self.defer = defer
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._running: list[threading.Thread] = []

    def start(self) -> "DraftWorker":
        """Start the threads (none when `threads` is 0)."""
        for n in range(self.threads):
            thread = threading.Thread(target=self._loop, name=f"draft-worker-{n + 1}", daemon=True)
            thread.start()
            self._running.append(thread)
        return self

    def wake(self) -> None:
        """Look at the queue now (a job was just queued)."""
        self._wake.set()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop after the drafts being written (a draft still running past the timeout is left to
        its lease: another process, or this one restarted, drafts it again)."""
        self._stop.set()
        self._wake.set()
        for thread in self._running:
            thread.join(timeout=timeout_s)
        self._running.clear()

    def _loop(self) -> None:
        peek = True  # a plain read before claiming, unless a job is known to be waiting
        while not self._stop.is_set():
            self._wait_for_buyers()
            try:
                worked = self.service.draft_pending(limit=1, peek=peek)
            except DatabaseBusy:
                log.info("draft worker: the review database is locked, looking again in %s s", ERROR_PAUSE_S)
                peek = True
                self._stop.wait(ERROR_PAUSE_S)
                continue
            except Exception:  # noqa: BLE001 - keep drafting the next questions
                log.exception("draft worker: claiming or running a draft job failed")
                peek = True
                self._stop.wait(ERROR_PAUSE_S)
                continue
            if worked:
                peek = False  # a queue that had one job likely has more
                continue
            peek = not self._wake.wait(self.poll_s)  # woken: this process just queued one
            self._wake.clear()

    def _wait_for_buyers(self) -> None:
        # The acknowledgement and the draft share the interpreter (one core at a time for Python):
        # a buyer waiting for theirs matters more than a draft an advisor reads later.
        deadline = time.monotonic() + MAX_DEFER_S
        while self.defer is not None and self.defer() and time.monotonic() < deadline:
            if self._stop.wait(0.02):
                return
