"""`guichet advisor ...`, `guichet review ...`, `guichet stats|export|import|forget`.

Advisors are named on the command line (this is the admin's tool); the web UI checks their
passwords with `ReviewService.authenticate`. Every error is one line and a non-zero exit code.

Example:
    $ guichet advisor add alice --password-stdin < secret.txt
    $ guichet review submit "Puis-je exiger un écolabel ?" --email acheteur@ville.fr --json
    $ guichet review validate 1 --advisor alice --text-file final.txt --reusable
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from assistant.cli import cli

if TYPE_CHECKING:
    from assistant.compose import AssistantHooks
    from assistant.review.service import ReviewService
    from assistant.review.views import QuestionDetail


def _wired() -> tuple[ReviewService, AssistantHooks]:
    """The review service of the settings, drafting and indexing reusable answers with one
    Assistant opened on first use (the hooks'); both are closed when the command ends."""
    from assistant import compose

    settings = compose.load_settings()
    hooks = compose.AssistantHooks(settings)
    service = compose.review_service(settings, hooks)
    context = click.get_current_context()
    context.call_on_close(service.close)
    context.call_on_close(hooks.close)
    return service, hooks


def _service() -> ReviewService:
    return _wired()[0]


def _print_json(value: Any) -> None:
    from assistant.review.views import to_jsonable

    click.echo(json.dumps(to_jsonable(value), ensure_ascii=False, indent=2))


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "-"


def _short(text: str, width: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _print_detail(detail: QuestionDetail) -> None:
    claim = f", claimed by {detail.claimed_by} until {_when(detail.claim_expires_at)}" if detail.claimed_by else ""
    click.echo(f"Question {detail.id} [{detail.status}, version {detail.version}{claim}]")
    click.echo(f"Asked {_when(detail.created_at)}; organisation: {detail.organisation or '-'}; "
               f"e-mail: {'yes' if detail.has_email else 'no'}")
    for earlier in detail.history:
        click.echo(f"  earlier in thread: {_short(earlier)}")
    click.echo(f"\n{detail.text}\n")
    if detail.draft_error:
        click.echo(f"Drafting failed: {detail.draft_error}")
    if detail.draft:
        draft = detail.draft
        state = f"abstained: {draft.reason}" if draft.abstained else draft.generator
        click.echo(f"Draft {draft.number}/{detail.drafts} ({state}):\n{draft.text}\n")
        by_id = {p.chunk_id: p for p in draft.passages}
        for citation in draft.citations:
            passage = by_id.get(citation.chunk_id)
            where = f"{passage.title}, {passage.location}" if passage else citation.chunk_id
            click.echo(f"  [{citation.marker}] {where}: « {_short(citation.quote, 100)} »")
        for flag in draft.flags:
            click.echo(f"  ! {flag.reason}: {_short(flag.sentence, 80)}")
    if detail.answer:
        answer = detail.answer
        click.echo(f"\nAnswer sent by {answer.advisor} on {_when(answer.validated_at)} "
                   f"(edit ratio {answer.edit_ratio:.2f}):\n{answer.text}")
        for source in answer.sources:
            click.echo(f"  {source.line()}")
    if detail.reason:
        click.echo(f"Reason: {detail.reason}")
    if detail.buyer_message:
        click.echo(f"Message to the buyer: {detail.buyer_message}")
    for entry in detail.outbox:
        error = f": {entry.last_error}" if entry.last_error else ""
        click.echo(f"Mail #{entry.id} {entry.status} after {entry.attempts} attempt(s){error}")


def _print_result(detail: QuestionDetail, as_json: bool) -> None:
    if as_json:
        _print_json(detail)
    else:
        click.echo(f"question {detail.id} is now {detail.status} (version {detail.version})")


# ------------------------------------------------------------------ advisor


@cli.group()
def advisor() -> None:
    """Advisor accounts: add, list, change a password, remove.

    \b
    Example:
      guichet advisor add alice
      guichet advisor passwd alice
      guichet advisor remove bob
    """


@advisor.command("add")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
def advisor_add(name: str, password_stdin: bool) -> None:
    """Create the advisor NAME (password from a prompt, asked twice, or from stdin).

    \b
    Example:
      guichet advisor add alice
      printf '%s\\n' "$PASSWORD" | guichet advisor add alice --password-stdin
    """
    created = _service().add_advisor(name, _read_password(password_stdin))
    click.echo(f"advisor '{created.name}' added")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@advisor.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the new password from the first line of stdin.")
def advisor_passwd(name: str, password_stdin: bool) -> None:
    """Change the password of advisor NAME; their open sessions end on every app process.

    \b
    Example:
      guichet advisor passwd alice
      printf '%s\\n' "$NEW_PASSWORD" | guichet advisor passwd alice --password-stdin
    """
    ended = _service().set_password(name, _read_password(password_stdin))
    click.echo(f"password of '{name}' changed; {ended} session(s) ended")


@advisor.command("remove")
@click.argument("name")
def advisor_remove(name: str) -> None:
    """Remove advisor NAME: no more logins, open sessions end on every app process at once.

    Their past actions keep their name in the audit log; 'guichet advisor add NAME' gives the
    account back later, with a new password.

    \b
    Example:
      guichet advisor remove bob
    """
    ended = _service().remove_advisor(name)
    click.echo(f"advisor '{name}' removed; {ended} session(s) ended")


@advisor.command("list")
def advisor_list() -> None:
    """List advisor names.

    \b
    Example:
      guichet advisor list
    """
    for row in _service().advisors():
        click.echo(row.name)


# ------------------------------------------------------------------ review


@cli.group()
def review() -> None:
    """Buyer questions and their review by advisors.

    \b
    Example:
      guichet review list --status drafted
    """


@review.command("submit")
@click.argument("question")
@click.option("--email", help="Where to mail the validated answer.")
@click.option("--organisation", help="The buyer's organisation.")
@click.option("--thread", "thread_token", help="Token of an existing thread (follow-up question).")
@click.option("--json", "as_json", is_flag=True, help='Print {"id", "status", "thread"}.')
def review_submit(question: str, email: str | None, organisation: str | None, thread_token: str | None,
                  as_json: bool) -> None:
    """Record QUESTION and draft an answer for review (status 'drafted').

    The draft is made in this command (its job is claimed at once, so no app process drafts it
    too). Exits 1 when drafting failed: the question is kept as 'received' with its draft job,
    which is retried later by the web app or 'guichet review drafts --run'.

    \b
    Example:
      guichet review submit "Quelle part de reconditionné ?" --email a@ville.fr --json
    """
    sub = _service().submit(question, email, organisation, thread_token)
    if as_json:
        _print_json({"id": sub.id, "status": sub.status, "thread": sub.thread,
                     **({"error": sub.error} if sub.error else {})})
    else:
        click.echo(f"question {sub.id} {sub.status} (thread {sub.thread})")
    if sub.error:
        click.echo(f"Error: question {sub.id} is recorded but drafting failed: {sub.error}", err=True)
        sys.exit(1)


@review.command("list")
@click.option("--status", help="Only this status: received, drafted, in_review, sent, rejected, escalated.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def review_list(status: str | None, as_json: bool) -> None:
    """The review queue, oldest first.

    \b
    Example:
      guichet review list --status drafted
    """
    rows = _service().list_questions(status)
    if as_json:
        _print_json(rows)
        return
    for row in rows:
        who = f" [{row.claimed_by}]" if row.claimed_by else ""
        click.echo(f"{row.id:>5}  {row.status:<10} {_when(row.created_at)}  {_short(row.text, 60)}{who}")


@review.command("show")
@click.argument("question_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def review_show(question_id: int, as_json: bool) -> None:
    """A question with its draft, cited passages, answer, mail state and audit log.

    \b
    Example:
      guichet review show 12
    """
    detail = _service().show(question_id)
    if as_json:
        _print_json(detail)
    else:
        _print_detail(detail)


@review.command("claim")
@click.argument("question_id", type=int)
@click.option("--advisor", "advisor_name", required=True, help="Advisor name.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def review_claim(question_id: int, advisor_name: str, as_json: bool) -> None:
    """Take a question for review (the claim expires after GUICHET_CLAIM_MINUTES, 30 by default).

    \b
    Example:
      guichet review claim 12 --advisor alice
    """
    _print_result(_service().claim(question_id, advisor_name), as_json)


@review.command("release")
@click.argument("question_id", type=int)
@click.option("--advisor", "advisor_name", required=True, help="Advisor name.")
def review_release(question_id: int, advisor_name: str) -> None:
    """Give a claimed question back to the queue.

    \b
    Example:
      guichet review release 12 --advisor alice
    """
    _print_result(_service().release(question_id, advisor_name), False)


@review.command("redraft")
@click.argument("question_id", type=int)
@click.option("--advisor", "advisor_name", required=True, help="Advisor name (who holds the claim).")
@click.option("--passage", "chunk_ids", multiple=True, metavar="CHUNK_ID",
              help="A passage to draft from, by the chunk id 'guichet search --json' prints; repeat it, "
                   "best first (default: a fresh search).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def review_redraft(question_id: int, advisor_name: str, chunk_ids: tuple[str, ...], as_json: bool) -> None:
    """Draft a claimed question again, now: from a fresh search, or from the passages given.

    \b
    Examples:
      guichet review redraft 12 --advisor alice
      guichet search "don de matériel informatique" --json   # chunk ids of the passages
      guichet review redraft 12 --advisor alice --passage CHUNK_ID --passage CHUNK_ID
    """
    service, hooks = _wired()
    passages = hooks.assistant.picked(chunk_ids) if chunk_ids else None
    _print_result(service.redraft(question_id, advisor_name, passages=passages), as_json)


@review.command("validate")
@click.argument("question_id", type=int)
@click.option("--advisor", "advisor_name", required=True, help="Advisor name.")
@click.option("--text-file", type=click.File("r", encoding="utf-8"),
              help="Final text (UTF-8, '-' for stdin); without it the draft is sent unedited.")
@click.option("--reusable", is_flag=True, help="Add the answer to the knowledge base as a past answer.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def review_validate(question_id: int, advisor_name: str, text_file, reusable: bool, as_json: bool) -> None:
    """Validate and send the answer of a question (claims it if nobody holds it).

    \b
    Example:
      guichet review validate 12 --advisor alice --text-file final.txt --reusable
    """
    text = text_file.read() if text_file is not None else None
    detail = _service().validate(question_id, advisor_name, text, reusable=reusable)
    _print_result(detail, as_json)
    failed = [e for e in detail.outbox if e.status == "failed"]
    if failed and not as_json:
        click.echo(f"Warning: the mail is not delivered yet ({failed[-1].last_error}); "
                   "'guichet review retry-outbox' retries it", err=True)


@review.command("reject")
@click.argument("question_id", type=int)
@click.option("--advisor", "advisor_name", required=True, help="Advisor name.")
@click.option("--reason", required=True, help="Why (for advisors and statistics).")
@click.option("--message", help="What the buyer reads (a polite default otherwise).")
def review_reject(question_id: int, advisor_name: str, reason: str, message: str | None) -> None:
    """Close a question without an answer; the buyer gets the message.

    \b
    Example:
      guichet review reject 12 --advisor alice --reason "hors champ" --message "Voyez la DAJ."
    """
    _print_result(_service().reject(question_id, advisor_name, reason, message), False)


@review.command("escalate")
@click.argument("question_id", type=int)
@click.option("--advisor", "advisor_name", required=True, help="Advisor name.")
@click.option("--reason", required=True, help="Who should take it and why.")
def review_escalate(question_id: int, advisor_name: str, reason: str) -> None:
    """Hand a question to an expert or a working group.

    \b
    Example:
      guichet review escalate 12 --advisor alice --reason "question juridique : DAJ"
    """
    _print_result(_service().escalate(question_id, advisor_name, reason), False)


@review.command("outbox")
@click.option("--status", help="Only this status: pending, failed, sent, cancelled.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def review_outbox(status: str | None, as_json: bool) -> None:
    """Mails to buyers and their delivery state.

    \b
    Example:
      guichet review outbox --status failed
    """
    entries = _service().outbox(status)
    if as_json:
        _print_json(entries)
        return
    for entry in entries:
        error = f"  {entry.last_error}" if entry.last_error else ""
        click.echo(f"{entry.id:>5}  question {entry.question_id:<5} {entry.status:<9} "
                   f"attempts {entry.attempts}{error}")


@review.command("retry-outbox")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def review_retry_outbox(as_json: bool) -> None:
    """Try every pending or failed mail again; exits 1 if some still fail.

    \b
    Example:
      guichet review retry-outbox
    """
    report = _service().retry_outbox()
    if as_json:
        _print_json(report)
    else:
        click.echo(f"sent {report.sent}, failed {report.failed}")
        for entry in report.entries:
            if entry.status == "failed":
                click.echo(f"  mail #{entry.id} (question {entry.question_id}): {entry.last_error}")
    if report.failed:
        sys.exit(1)


@review.command("drafts")
@click.option("--status", help="Only this state: queued, running, done, failed, cancelled.")
@click.option("--run", "run_due", is_flag=True,
              help="Draft now every job that is due (as an app's background worker would), then list.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def review_drafts(status: str | None, run_due: bool, as_json: bool) -> None:
    """Draft jobs: questions waiting for their draft, being drafted, drafted, failed.

    The web app drafts in the background; with --run this command drafts what is due (for
    instance when no app process runs, or GUICHET_DRAFT_WORKERS is 0). Exits 1 if a job drafted
    now failed.

    \b
    Examples:
      guichet review drafts --status failed
      guichet review drafts --run --json
    """
    service = _service()
    failed = 0
    if run_due:
        while outcomes := service.draft_pending(limit=1):
            for outcome in outcomes:
                failed += bool(outcome.error)
                if not as_json:
                    state = f"failed: {outcome.error}" if outcome.error else outcome.status
                    click.echo(f"question {outcome.question_id}: {state}")
    jobs = service.draft_jobs(status)
    if as_json:
        _print_json(jobs)
    else:
        for job in jobs:
            error = f"  {_short(job.last_error, 80)}" if job.last_error else ""
            retry = f", next attempt {_when(job.next_attempt_at)}" if job.status == "failed" and job.next_attempt_at \
                else ""
            click.echo(f"{job.id:>5}  question {job.question_id:<5} {job.status:<9} "
                       f"attempts {job.attempts}{retry}{error}")
    if failed:
        sys.exit(1)


# ------------------------------------------------------------------ top-level


@cli.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def stats(as_json: bool) -> None:
    """Volume, acceptance rate of drafts, edit ratio and times, overall and per advisor.

    \b
    Example:
      guichet stats --json
    """
    figures = _service().stats()
    if as_json:
        _print_json(figures)
        return

    def fmt(value: Any) -> str:
        return "-" if value is None else f"{value:.2f}" if isinstance(value, float) else str(value)

    click.echo(f"questions {figures['questions']}, sent {figures['sent']}, "
               f"by status {figures['by_status']}")
    click.echo(f"acceptance rate {fmt(figures['acceptance_rate'])}, "
               f"mean edit ratio {fmt(figures['edit_ratio_mean'])}")
    for key in ("time_to_draft_s", "time_to_validation_s", "time_to_answer_s"):
        click.echo(f"{key}: p50 {fmt(figures[key]['p50'])}, p95 {fmt(figures[key]['p95'])}")
    for name, own in figures["per_advisor"].items():
        click.echo(f"  {name}: sent {own['sent']}, acceptance {fmt(own['acceptance_rate'])}, "
                   f"edit ratio {fmt(own['edit_ratio_mean'])}")
    click.echo(f"outbox {figures['outbox']}")


@cli.command("export")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Backup file to write (JSON lines).")
def export(out: Path) -> None:
    """Back up every thread, question, draft, answer, audit event, advisor and feedback.

    \b
    Example:
      guichet export --out backup-2025-03-04.jsonl
    """
    count = _service().export(out)
    click.echo(f"{count} rows written to {out}")


@cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_(path: Path) -> None:
    """Restore a backup into an empty review database.

    \b
    Example:
      GUICHET_HOME=/srv/guichet-new guichet import backup-2025-03-04.jsonl
    """
    count = _service().import_backup(path)
    click.echo(f"{count} rows restored from {path}")


@cli.command("forget")
@click.option("--thread", "thread_token", required=True, help="The buyer's thread token.")
def forget(thread_token: str) -> None:
    """Erase a buyer's e-mail and organisation; anonymous statistics stay.

    \b
    Example:
      guichet forget --thread 3q2-Xk...
    """
    _service().forget(thread_token)
    click.echo("personal data of the thread erased")
