"""Run parsers in forked child processes under one time limit.

pypdf can spin for minutes on a hostile or damaged file, and a thread cannot be stopped, so the
extraction runs in child processes that are killed when the limit passes. The "fork" start
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

import logging
import multiprocessing
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


def run_with_time_limit(func: Callable[..., Any], args: tuple[Any, ...], *, timeout_s: float, what: str) -> Any:
    """Call `func(*args)` in a forked child and return its result, or give up after `timeout_s`.

    Raises:
        IngestError: the time limit passed (the child is killed) or the child died.
        ChildError: `func` raised; the message is its one-line description.
    """
    return run_all_with_time_limit([(func, args)], timeout_s=timeout_s, what=what)[0]


def run_all_with_time_limit(calls: Sequence[Call], *, timeout_s: float, what: str) -> list[Any]:
    """Run each `func(*args)` in its own forked child, in parallel; all must finish within `timeout_s`.

    Args:
        calls: (function, positional arguments) pairs; the results must be picklable.
        timeout_s: Seconds, from the start, after which every child still running is killed.
        what: What the children do, for messages ("text extraction").

    Returns:
        The results, in the order of `calls`.

    Raises:
        IngestError: the time limit passed or a child died without answering.
        ChildError: a function raised; the message is its one-line description.
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
            process = _CONTEXT.Process(target=_child_main, args=(sender, func, args), daemon=True)
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
        if status == "error":
            raise ChildError(payload)
    return [payload for _, payload in (results[index] for index in range(len(calls)))]


def _child_main(conn: Connection, func: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        result = ("ok", func(*args))
    except BaseException as exc:  # report everything: the parent only sees what we send
        result = ("error", describe(exc))
    try:
        conn.send(result)
    finally:
        conn.close()


def _call_inline(func: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    try:
        return func(*args)
    except Exception as exc:
        raise ChildError(describe(exc)) from exc
