"""Background work inside an app process: threads that claim and run draft jobs (and, through
`review.delivery`, deliver the outbox).

`Worker` is the loop they run. Each drafting thread asks the review service for one due job at
a time (`draft_pending`), so several threads and several processes share the queue without
drafting a question twice (see `review.jobs`). An idle thread waits `poll_s` or until `wake()`
(called when this process queues a job). Buyers come first: while `defer()` says
acknowledgements are being made (see `BuyerActivity`), a thread waits before its next job
(`MAX_DEFER_S` at most, so work still progresses under a constant load). A locked database or
any other error is logged and retried after a pause: the worker never stops on its own.

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


class Worker:
    """Threads that repeat one unit of work, waiting `poll_s` (or until `wake()`) when idle.

    Subclasses give `_work(peek)`, which returns True when it did something (then it runs again
    at once, with `peek` False: more work is likely waiting). `peek` True means nothing says work
    is waiting, so a plain read before claiming is cheaper. A locked database or any other error
    is logged and retried after `ERROR_PAUSE_S`.

    Args:
        threads: How many threads work at once.
        poll_s: Seconds between looks when idle.
        defer: True while work should wait (buyers are being acknowledged in this process).
    """

    #: Names the threads and the log lines.
    name = "worker"

    def __init__(self, threads: int, poll_s: float, defer: Callable[[], bool] | None = None) -> None:
        self.threads = threads
        self.poll_s = poll_s
        self.defer = defer
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._running: list[threading.Thread] = []

    def _work(self, peek: bool) -> bool:
        raise NotImplementedError

    def start(self) -> "Worker":
        """Start the threads (none when `threads` is 0)."""
        for n in range(self.threads):
            thread = threading.Thread(target=self._loop, name=f"{self.name.replace(' ', '-')}-{n + 1}", daemon=True)
            thread.start()
            self._running.append(thread)
        return self

    def wake(self) -> None:
        """Look now (work was just queued)."""
        self._wake.set()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop after the work under way (what is still running past the timeout is left to its
        lease: another process, or this one restarted, does it again)."""
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
                worked = self._work(peek)
            except DatabaseBusy:
                log.info("%s: the review database is locked, looking again in %s s", self.name, ERROR_PAUSE_S)
                peek = True
                self._stop.wait(ERROR_PAUSE_S)
                continue
            except Exception:  # noqa: BLE001 - keep working on what comes next
                log.exception("%s: a unit of work failed", self.name)
                peek = True
                self._stop.wait(ERROR_PAUSE_S)
                continue
            if worked:
                peek = False  # a queue that had one job likely has more
                continue
            peek = not self._wake.wait(self.poll_s)  # woken: this process just queued one
            self._wake.clear()

    def _wait_for_buyers(self) -> None:
        # The acknowledgement and the background work share the interpreter (one core at a time
        # for Python): a buyer waiting for theirs matters more than a draft an advisor reads later.
        deadline = time.monotonic() + MAX_DEFER_S
        while self.defer is not None and self.defer() and time.monotonic() < deadline:
            if self._stop.wait(0.02):
                return


class DraftWorker(Worker):
    """Drafting threads over one `ReviewService`.

    Args:
        service: The review service (its drafter, owner id and job table).
        threads: How many drafts may be written at once (LLM requests wait on the network).
        poll_s: Seconds between looks at the queue when idle.
        defer: True while drafting should wait (buyers are being acknowledged in this process).
    """

    name = "draft worker"

    def __init__(self, service: Any, threads: int = 2, poll_s: float = POLL_S,
                 defer: Callable[[], bool] | None = None) -> None:
        super().__init__(threads, poll_s, defer)
        self.service = service

    def _work(self, peek: bool) -> bool:
        return bool(self.service.draft_pending(limit=1, peek=peek))
