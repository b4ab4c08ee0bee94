"""Mail to buyers: composing plain-text messages and delivering them with smtplib.

The mailer knows nothing of the database: the service queues each message in its outbox after
an advisor validated (or rejected) a question, then hands it here.

Example:
    >>> mail = compose_answer(12, "Puis-je exiger un label ?", "Oui [1].", [])
    >>> mail.subject
    'Guichet vert : réponse à votre question n° 12'
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol

from assistant.review.errors import DeliveryFailed, InvalidInput
from assistant.review.views import Source

SECURITY_MODES = ("starttls", "ssl", "none")


#: Right-hand side of the Message-IDs the desk makes.
MESSAGE_ID_DOMAIN = "guichet-vert"


@dataclass(frozen=True)
class OutgoingMail:
    """A plain-text message to one buyer.

    `message_id` is the same on every delivery attempt of one message (the outbox makes it
    when the mail is queued), so that receivers drop a second copy; empty = a new one.
    """

    recipient: str
    subject: str
    body: str
    message_id: str = ""


class Mailer(Protocol):
    """Delivers one message or raises `DeliveryFailed` with a one-line reason."""

    def send(self, mail: OutgoingMail) -> None: ...


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" for line in text.splitlines())


_SIGNATURE = (
    "Cette réponse a été relue et validée par un conseiller du guichet vert.\n"
    "Elle est un premier niveau d'information, pas un avis juridique."
)


def compose_answer(question_id: int, question: str, answer: str, sources: Sequence[Source]) -> OutgoingMail:
    """The message carrying a validated answer and its sources (recipient filled by the caller)."""
    lines = [
        "Bonjour,", "",
        f"Voici la réponse du guichet vert à votre question n° {question_id} :", "",
        _quote(question), "", answer, "",
    ]
    if sources:
        lines += ["Sources :", *(s.line() for s in sources), ""]
    lines.append(_SIGNATURE)
    return OutgoingMail("", f"Guichet vert : réponse à votre question n° {question_id}", "\n".join(lines))


def compose_rejection(question_id: int, question: str, message: str) -> OutgoingMail:
    """The message telling a buyer why their question gets no answer from the desk."""
    body = "\n".join([
        "Bonjour,", "",
        f"Au sujet de votre question n° {question_id} :", "", _quote(question), "", message, "",
        "Le guichet vert",
    ])
    return OutgoingMail("", f"Guichet vert : votre question n° {question_id}", body)


class SmtpMailer:
    """Sends mail through an SMTP server with STARTTLS, implicit TLS (SSL) or no encryption.

    Example:
        >>> mailer = SmtpMailer("127.0.0.1", 2525, security="none")
        >>> # mailer.send(OutgoingMail("acheteur@exemple.fr", "Objet", "Texte"))

    Args:
        host: SMTP server name.
        port: SMTP port.
        security: One of SECURITY_MODES.
        user: Login name; empty means no authentication.
        password: Login password.
        sender: From address.
        timeout_s: Socket timeout of one delivery.
        ssl_context: TLS context; the system's default trust store when None.
    """

    def __init__(
        self,
        host: str,
        port: int,
        security: str = "starttls",
        user: str = "",
        password: str = "",
        sender: str = "guichet-vert@localhost",
        timeout_s: float = 10.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if security not in SECURITY_MODES:
            raise InvalidInput(
                f"GUICHET_SMTP_SECURITY must be one of {', '.join(SECURITY_MODES)}, got '{security}'"
            )
        self.host, self.port, self.security = host, port, security
        self.user, self._password, self.sender = user, password, sender
        self.timeout_s = timeout_s
        self._context = ssl_context

    def __repr__(self) -> str:
        return f"SmtpMailer({self.host!r}, {self.port}, security={self.security!r}, user={self.user!r})"

    def message(self, mail: OutgoingMail) -> EmailMessage:
        """The MIME message (text/plain, UTF-8) for `mail`."""
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = mail.recipient
        message["Subject"] = mail.subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = mail.message_id or make_msgid(domain=MESSAGE_ID_DOMAIN)
        message.set_content(mail.body, subtype="plain", charset="utf-8")
        return message

    def send(self, mail: OutgoingMail) -> None:
        """Deliver `mail`; raises `DeliveryFailed` with the server's or the network's reason.

        Once the server has accepted the message (its reply to DATA), nothing can make this
        fail: a connection lost at QUIT afterwards is ignored, or the retry would send a copy.
        """
        context = self._context or ssl.create_default_context()
        client = None
        try:
            if self.security == "ssl":
                client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout_s, context=context)
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)
            if self.security == "starttls":
                client.starttls(context=context)
            if self.user:
                client.login(self.user, self._password)
            client.send_message(self.message(mail))
        except (smtplib.SMTPException, OSError) as exc:
            if client is not None:
                client.close()
            reason = str(exc).replace("\n", " ").strip() or type(exc).__name__
            raise DeliveryFailed(
                f"mail to {mail.recipient} via {self.host}:{self.port} failed: {reason}"
            ) from None
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()  # accepted already: the goodbye does not matter
