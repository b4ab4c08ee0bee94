"""Run parsers in forked child processes under one time limit and one memory limit.

pypdf can spin for minutes on a hostile or damaged file, a Markdown file of a million headings
or a .docx zip bomb can take gigabytes, and a thread can be neither stopped nor bounded, so
every extraction runs in child processes that are killed when the time limit passes and whose
address space is capped (`RLIMIT_AS`, counted from the parent's size at the fork). The "fork" start
method keeps the start-up cost to a few milliseconds (no re-import, no pickling of the target)
and lets the children see the parent's state as it is, monkeypatches included.
A child must only compute and return plain, picklable data.

Example:
    >>> run_with_time_limit(sum, ([1, 2, 3],), timeout_s=5, what="sum")
    6
    >>> run_all_with_time_limit([(sum, ([1],)), (sum, ([2, 3],))], timeout_s=5, what="sums")
    [1, 5]
"""

from __future__ import annotations

import errno
import logging
import multiprocessing
import resource
import time
from multiprocessing.connection import Connection, wait
from typing import Any, Callable, Sequence

from assistant.errors import IngestError
from assistant.ingest.loaders.common import describe

_CONTEXT = multiprocessing.get_context("fork")
_log = logging.getLogger(__name__)

Call = tuple[Callable[..., Any], tuple[Any, ...]]


class ChildError(Exception):
    """Raised in the parent when the function raised in the child; the message is one line."""


def run_with_time_limit(func: Callable[..., Any], args: tuple[Any, ...], *, timeout_s: float, what: str,
                        memory_mb: float | None = None) -> Any:
    """Call `func(*args)` in a forked child and return its result, or give up after `timeout_s`.

    Raises:
        IngestError: the time or memory limit passed (the child is stopped), the child died, or
            `func` raised an IngestError (raised again here, same class and message).
        ChildError: `func` raised anything else; the message is its one-line description.
    """
    return run_all_with_time_limit([(func, args)], timeout_s=timeout_s, what=what, memory_mb=memory_mb)[0]


def run_all_with_time_limit(calls: Sequence[Call], *, timeout_s: float, what: str,
                            memory_mb: float | None = None) -> list[Any]:
    """Run each `func(*args)` in its own forked child, in parallel; all must finish within `timeout_s`.

    Args:
        calls: (function, positional arguments) pairs; the results must be picklable.
        timeout_s: Seconds, from the start, after which every child still running is killed.
        what: What the children do, for messages ("text extraction").
        memory_mb: Megabytes each child may allocate beyond what it inherits (None: no limit).

    Returns:
        The results, in the order of `calls`.

    Raises:
        IngestError: the time or memory limit passed, a child died without answering, or a
            function raised an IngestError.
        ChildError: a function raised anything else; the message is its one-line description.
    """
    if multiprocessing.current_process().daemon:
        # A daemonic process (a multiprocessing pool worker) may not fork children.
        _log.warning("%s runs without a time limit inside a daemonic process", what)
        return [_call_inline(func, args) for func, args in calls]
    deadline = time.monotonic() + timeout_s
    children: list[tuple[Any, Connection]] = []
    results: dict[int, tuple[str, Any]] = {}
    try:
        for func, args in calls:
            receiver, sender = _CONTEXT.Pipe(duplex=False)
            process = _CONTEXT.Process(target=_child_main, args=(sender, func, args, memory_mb), daemon=True)
            process.start()
            sender.close()  # so that the receiver sees EOF if the child dies without answering
            children.append((process, receiver))
        pending = {receiver: index for index, (_, receiver) in enumerate(children)}
        while pending:
            remaining = deadline - time.monotonic()
            ready = wait(list(pending), timeout=max(0.0, remaining)) if remaining > 0 else []
            if not ready:
                raise IngestError(f"{what} took over {timeout_s:g} s (GUICHET_FILE_TIMEOUT_S)")
            for receiver in ready:
                index = pending.pop(receiver)
                try:
                    results[index] = receiver.recv()
                except EOFError:
                    process = children[index][0]
                    process.join(timeout=1)
                    raise IngestError(f"{what} crashed (child exit code {process.exitcode})") from None
    finally:
        for process, receiver in children:
            receiver.close()
            process.join(timeout=2 if len(results) == len(children) else 0)  # they exit right after sending
            if process.is_alive():
                process.kill()
                process.join()
    for status, payload in (results[index] for index in range(len(calls))):
        if status == "memory":
            raise IngestError(f"{what} needed more than {memory_mb:g} MB of memory (GUICHET_FILE_MEMORY_MB)")
        if status == "raised":
            raise payload
        if status == "error":
            raise ChildError(payload)
    return [payload for _, payload in (results[index] for index in range(len(calls)))]


def _child_main(conn: Connection, func: Callable[..., Any], args: tuple[Any, ...],
                memory_mb: float | None = None) -> None:
    try:
        if memory_mb is not None:
            _limit_memory(memory_mb)
        result = ("ok", func(*args))
    except BaseException as exc:  # report everything: the parent only sees what we send
        if memory_mb is not None and _out_of_memory(exc):
            result = ("memory", None)
        elif isinstance(exc, IngestError):  # already a one-line message for the user: keep its class
            result = ("raised", exc)
        else:
            result = ("error", describe(exc))
    try:
        conn.send(result)
    except MemoryError:  # a result too large to send within the limit
        conn.send(("memory", None))
    finally:
        conn.close()


def _out_of_memory(exc: BaseException | None) -> bool:
    """Whether an allocation failed anywhere in the exception's chain.

    Loaders wrap library errors in one-line IngestErrors (`raise ... from None` keeps the
    original as `__context__`), and C libraries report a refused allocation in their own words
    (zlib: "Unable to allocate output buffer", libxml2: "Memory allocation failed").
    """
    seen = 0
    while exc is not None and seen < 20:
        if isinstance(exc, MemoryError) or (isinstance(exc, OSError) and exc.errno == errno.ENOMEM):
            return True
        if "alloc" in str(exc).lower():
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def _limit_memory(megabytes: float) -> None:
    """Cap this process's address space at its current size plus `megabytes`."""
    try:
        with open("/proc/self/statm") as statm:
            current = int(statm.read().split()[0]) * resource.getpagesize()
    except OSError:  # not Linux: no limit rather than a wrong one
        _log.debug("no /proc/self/statm: memory of the %s child not limited", megabytes)
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = current + int(megabytes * 1024 * 1024)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _call_inline(func: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    try:
        return func(*args)
    except IngestError:
        raise
    except Exception as exc:
        raise ChildError(describe(exc)) from exc
