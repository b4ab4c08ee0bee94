"""Background delivery of the outbox inside an app process.

One thread tries every mail that is due (new, left `pending` by a killed process once its
lease has expired, or `failed` and past its retry time, see `review.outbox.retry_delay`),
then looks again every `poll_s`. Every app process may run one: the lease on each row keeps
two processes from sending the same mail at once.

Example:
    >>> worker = DeliveryWorker(service.mail).start()   # doctest: +SKIP
    >>> worker.stop()                                   # doctest: +SKIP
"""

from __future__ import annotations

from assistant.review.outbox import Outbox
from assistant.review.worker import Worker

#: Seconds between looks at the outbox (well under the first retry delay of 30 s).
POLL_S = 5.0


class DeliveryWorker(Worker):
    """The thread delivering an outbox.

    Args:
        outbox: The outbox to deliver (its mailer must be set).
        poll_s: Seconds between looks when nothing was due.
    """

    name = "mail delivery"

    def __init__(self, outbox: Outbox, poll_s: float = POLL_S) -> None:
        super().__init__(threads=1, poll_s=poll_s)
        self.outbox = outbox

    def _work(self, peek: bool) -> bool:
        # Each row is tried once per pass: a failed one waits for its retry time, not for a loop.
        self.outbox.deliver_due()
        return False
