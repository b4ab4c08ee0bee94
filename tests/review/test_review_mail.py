"""Mail to buyers through a real SMTP server on loopback (aiosmtpd): content, failures, TLS."""

from __future__ import annotations

import datetime
import ipaddress
import ssl

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import assistant.cli.review  # noqa: F401 - registers the review commands on `cli`
from assistant.cli import cli
from assistant import compose
from assistant.config import get_settings
from assistant.review.errors import InvalidInput
from assistant.review.mailer import OutgoingMail, SmtpMailer
from review_fixtures import FIXED_PASSAGE, SECOND_PASSAGE, Inbox, body, open_service
from support import free_port


def test_each_buyer_gets_only_their_own_answer_with_sources(home, smtp):
    inbox, _ = smtp
    service = open_service()
    service.add_advisor("alice", "correct horse battery")
    first = service.submit("Puis-je exiger un label ?", email="un@ville.fr")
    second = service.submit("Que faire des vieux écrans ?", email="deux@hopital.fr")
    service.validate(first.id, "alice", "Oui, sous conditions [1].")
    service.validate(second.id, "alice", "Le réemploi d'abord [2].")

    (one,) = inbox.to("un@ville.fr")
    (two,) = inbox.to("deux@hopital.fr")
    text_one, text_two = body(one), body(two)
    assert one["Subject"] == f"Guichet vert : réponse à votre question n° {first.id}", one["Subject"]
    assert "Oui, sous conditions [1]." in text_one and "Puis-je exiger un label ?" in text_one, text_one
    assert f"[1] {FIXED_PASSAGE.chunk.title}, p. 12" in text_one, f"sources list expected:\n{text_one}"
    assert SECOND_PASSAGE.chunk.title not in text_one, "only the sources the final text cites are listed"
    for foreign in ("Le réemploi d'abord", "vieux écrans", second.thread, first.thread):
        assert foreign not in text_one, f"'{foreign}' leaked into the first buyer's mail"
    assert "Le réemploi d'abord [2]." in text_two and "Labels > Équivalence" in text_two, text_two
    for foreign in ("sous conditions", "exiger un label"):
        assert foreign not in text_two, f"'{foreign}' leaked into the second buyer's mail"


def test_html_in_the_answer_is_mailed_as_plain_text(home, smtp):
    inbox, _ = smtp
    service = open_service()
    service.add_advisor("alice", "correct horse battery")
    sub = service.submit("Question ?", email="un@ville.fr")
    html = '<a href="https://evil.example">cliquez</a> & <b>merci</b>'
    service.validate(sub.id, "alice", html)
    (message,) = inbox.to("un@ville.fr")
    assert message.get_content_type() == "text/plain" and not message.is_multipart(), \
        "answers are mailed as plain text only: no HTML part that a client would render"
    assert html in body(message), "the text is mailed exactly as validated"


def test_rejection_message_is_mailed(home, smtp):
    inbox, _ = smtp
    service = open_service()
    service.add_advisor("alice", "correct horse battery")
    sub = service.submit("Pouvez-vous relire notre DCE ?", email="un@ville.fr")
    service.reject(sub.id, "alice", "relecture de DCE hors champ", message="Le guichet ne relit pas les DCE.")
    (message,) = inbox.to("un@ville.fr")
    assert "Le guichet ne relit pas les DCE." in body(message), body(message)
    assert "hors champ" not in body(message), "the internal reason is not mailed"


def test_failed_send_is_kept_visible_and_retried_until_delivered(home, monkeypatch):
    port = free_port()  # nothing listens there yet: the first delivery fails
    monkeypatch.setenv("GUICHET_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("GUICHET_SMTP_PORT", str(port))
    monkeypatch.setenv("GUICHET_SMTP_SECURITY", "none")
    service = open_service()
    service.add_advisor("alice", "correct horse battery")
    sub = service.submit("Puis-je exiger un label ?", email="un@ville.fr")

    detail = service.validate(sub.id, "alice", "Oui [1].")
    assert detail.status == "sent", "the answer is validated and in the thread even if mail fails"
    assert service.thread(sub.thread).messages[0].answer == "Oui [1]."
    (entry,) = service.outbox(status="failed")
    assert entry.attempts == 1 and f"127.0.0.1:{port}" in entry.last_error, entry
    assert "mail_failed" in [e.action for e in service.show(sub.id).events], "the failure is audited"
    assert service.stats()["outbox"]["failed"] == 1, "failed mail shows in the stats"

    result = CliRunner().invoke(cli, ["review", "retry-outbox"])
    assert result.exit_code == 1 and "failed 1" in result.output, result.output

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        report = service.retry_outbox()
        assert (report.sent, report.failed) == (1, 0), report
        (message,) = inbox.to("un@ville.fr")
        assert "Oui [1]." in body(message)
        (entry,) = service.outbox()
        assert (entry.status, entry.attempts) == ("sent", 3), entry
        assert service.retry_outbox().entries == (), "a delivered mail is never sent again"
    finally:
        controller.stop()


def test_forget_cancels_undelivered_mail(home, monkeypatch):
    monkeypatch.setenv("GUICHET_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("GUICHET_SMTP_PORT", str(free_port()))
    monkeypatch.setenv("GUICHET_SMTP_SECURITY", "none")
    service = open_service()
    service.add_advisor("alice", "correct horse battery")
    sub = service.submit("Question ?", email="un@ville.fr")
    service.validate(sub.id, "alice", "Réponse.")
    service.forget(sub.thread)
    (entry,) = service.outbox()
    assert (entry.status, entry.recipient) == ("cancelled", ""), entry
    assert service.retry_outbox().entries == (), "a cancelled mail is never retried"


def test_no_mail_without_smtp_or_without_address(home, smtp):
    service = open_service()
    service.add_advisor("alice", "correct horse battery")
    anonymous = service.submit("Question sans adresse ?")
    service.validate(anonymous.id, "alice")
    assert service.outbox() == [], "no address, no mail"

    quiet = open_service(mailer=None)
    quiet_settings = get_settings(smtp_host="")
    assert compose.smtp_mailer(quiet_settings) is None, "no SMTP host means no mailer"
    assert quiet.submit("Q ?", email="x@ville.fr").status == "drafted"


def test_unknown_security_mode_is_refused():
    with pytest.raises(InvalidInput, match="GUICHET_SMTP_SECURITY must be one of starttls, ssl, none"):
        SmtpMailer("127.0.0.1", 25, security="tls")


def _self_signed(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_path, key_path)
    return server, ssl.create_default_context(cafile=str(cert_path))


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_encrypted_and_authenticated_delivery(tmp_path, security):
    server_context, client_context = _self_signed(tmp_path)
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.login == b"guichet" and auth_data.password == b"s3cret-pw")

    inbox, port = Inbox(), free_port()
    # aiosmtpd does not count implicit TLS as "TLS" for its AUTH policy, hence auth_require_tls off.
    tls = {"tls_context": server_context, "require_starttls": True} if security == "starttls" \
        else {"ssl_context": server_context, "auth_require_tls": False}
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=authenticator,
                            auth_required=True, **tls)
    controller.start()
    try:
        mailer = SmtpMailer("127.0.0.1", port, security, "guichet", "s3cret-pw", "desk@exemple.fr",
                            ssl_context=client_context)
        mailer.send(OutgoingMail("un@ville.fr", "Objet", "Corps du message."))
        (message,) = inbox.to("un@ville.fr")
        assert body(message).strip() == "Corps du message." and message["From"] == "desk@exemple.fr"
        assert logins == [(b"guichet", b"s3cret-pw")], f"the credentials must be used: {logins}"
        assert "s3cret-pw" not in repr(mailer), "the password must not appear in the mailer's repr"
    finally:
        controller.stop()
