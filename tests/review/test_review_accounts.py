"""Advisor accounts and sessions: throttled logins, shared sessions, password change, removal."""

from __future__ import annotations

import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
from argon2 import PasswordHasher

from assistant.review import accounts as accounts_module
from assistant.review.accounts import FREE_FAILURES, MAX_DELAY_S, VERIFY_CONCURRENCY, login_delay
from assistant.review.errors import AuthenticationFailed, RateLimited, UnknownAdvisor
from assistant.compose import review_service
from review_fixtures import PASSWORD, draft_from_fixed_passage
from assistant.config import Settings


class CountingHasher(PasswordHasher):
    """Real argon2id (small costs) that counts its verifications."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.verified = 0
        self._lock = threading.Lock()

    def verify(self, hash, password):
        with self._lock:
            self.verified += 1
        return super().verify(hash, password)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def hasher() -> CountingHasher:
    return CountingHasher()


@pytest.fixture
def service(home, clock, hasher):
    svc = review_service(Settings(home=home), drafter=draft_from_fixed_passage, clock=clock, password_hasher=hasher)
    svc.add_advisor("alice", PASSWORD)
    svc.add_advisor("bob", PASSWORD)
    yield svc
    svc.close()


def test_the_wait_doubles_after_the_free_failures_up_to_a_cap():
    waits = [login_delay(n) for n in range(FREE_FAILURES + 12)]
    assert waits[:FREE_FAILURES] == [0.0] * FREE_FAILURES, waits
    growing = waits[FREE_FAILURES:]
    assert growing[0] == 1.0 and all(b == min(2 * a, MAX_DELAY_S) for a, b in zip(growing, growing[1:])), waits
    assert max(waits) == MAX_DELAY_S and login_delay(10_000) == MAX_DELAY_S


def test_failed_logins_make_the_account_wait_then_a_success_forgets_them(service, clock):
    for _ in range(FREE_FAILURES):
        with pytest.raises(AuthenticationFailed):
            service.authenticate("alice", "wrong password")
    with pytest.raises(RateLimited) as early:
        service.authenticate("alice", PASSWORD)
    assert early.value.retry_after == pytest.approx(1.0), "even the right password waits its turn"
    assert service.authenticate("bob", PASSWORD).name == "bob", "another account is not affected"
    clock.now += timedelta(seconds=1.01)
    with pytest.raises(AuthenticationFailed):
        service.authenticate("alice", "wrong again")
    with pytest.raises(RateLimited) as longer:
        service.authenticate("alice", PASSWORD)
    assert longer.value.retry_after == pytest.approx(2.0), "the wait doubled"
    clock.now += timedelta(seconds=2.01)
    assert service.authenticate("alice", PASSWORD).name == "alice"
    for _ in range(FREE_FAILURES):  # the success forgot the failures: five free tries again
        with pytest.raises(AuthenticationFailed):
            service.authenticate("alice", "wrong password")


def test_a_wait_is_never_longer_than_the_cap_and_failures_are_forgotten(service, clock):
    for _ in range(30):
        try:
            service.authenticate("alice", "wrong password")
        except (AuthenticationFailed, RateLimited):
            pass
        clock.now += timedelta(seconds=MAX_DELAY_S + 1)
    with pytest.raises(AuthenticationFailed):  # the cap passed: a try is checked again
        service.authenticate("alice", "wrong password")
    with pytest.raises(RateLimited) as early:
        service.authenticate("alice", PASSWORD)
    assert early.value.retry_after <= MAX_DELAY_S
    clock.now += timedelta(hours=1, seconds=1)
    assert service.authenticate("alice", PASSWORD).name == "alice", "an hour later the failures are forgotten"


def test_early_tries_and_unknown_names_cost_no_argon2(service, clock, hasher):
    service.authenticate("alice", PASSWORD)  # calibrates: one real check measured
    for i in range(40):
        with pytest.raises(AuthenticationFailed):
            service.authenticate(f"inconnu-{i}", "whatever password")
    for _ in range(FREE_FAILURES):
        with pytest.raises(AuthenticationFailed):
            service.authenticate("alice", "wrong password")
    before = hasher.verified
    for _ in range(40):
        with pytest.raises(RateLimited):
            service.authenticate("alice", "guess")
    assert before == 1 + FREE_FAILURES, f"only alice's real checks ran argon2: {before}"
    assert hasher.verified == before, "tries refused as too early ran no argon2"


def test_unknown_names_are_throttled_like_real_ones(service):
    for name in ("alice", "mallory"):
        for _ in range(FREE_FAILURES):
            with pytest.raises(AuthenticationFailed):
                service.authenticate(name, "wrong password")
        with pytest.raises(RateLimited):
            service.authenticate(name, "wrong password")


def test_a_burst_of_parallel_tries_gets_no_more_checks_than_the_schedule(service, hasher):
    def attempt(_):
        try:
            service.authenticate("alice", "wrong password")
        except (AuthenticationFailed, RateLimited) as exc:
            return type(exc).__name__

    with ThreadPoolExecutor(16) as pool:
        outcomes = list(pool.map(attempt, range(48)))
    assert hasher.verified <= FREE_FAILURES + VERIFY_CONCURRENCY, \
        f"{hasher.verified} argon2 checks for one account under a burst"
    assert outcomes.count("RateLimited") >= 48 - FREE_FAILURES - VERIFY_CONCURRENCY, outcomes


def test_unknown_names_take_as_long_as_a_real_check(service):
    import statistics
    import time

    def timed(name: str) -> float:
        started = time.perf_counter()
        with pytest.raises(AuthenticationFailed):
            service.authenticate(name, "wrong password")
        return time.perf_counter() - started

    real = [timed("alice") for _ in range(3)]
    service.limits.clear("login:alice")
    unknown = [timed(f"personne-{i}") for i in range(3)]
    ratio = statistics.median(unknown) / statistics.median(real)
    assert 0.3 < ratio < 3, f"an unknown name answers in {ratio:.2f}× the time of a real check"


def test_sessions_are_shared_and_end_with_logout(service, home, clock):
    sid = service.sessions.open("alice")
    other = review_service(Settings(home=home), clock=clock)  # another app process on the same database
    assert other.sessions.advisor(sid) == "alice"
    other.sessions.close(sid)
    assert service.sessions.advisor(sid) is None, "a logout on one process ends the session on the other"
    other.close()


def test_sessions_expire_and_are_stored_hashed(service, home, clock):
    sid = service.sessions.open("alice")
    with sqlite3.connect(home / "review.sqlite") as conn:
        stored = [i for (i,) in conn.execute("SELECT id FROM advisor_sessions")]
    assert stored and sid not in stored and all(len(i) == 64 for i in stored), "only the id's sha256 is kept"
    clock.now += timedelta(seconds=service.sessions.seconds + 1)
    assert service.sessions.advisor(sid) is None, "an expired session is refused"
    assert service.sessions.advisor("") is None and service.sessions.advisor("x" * 43) is None


def test_a_password_change_ends_every_session_of_the_advisor(service):
    mine, again, bobs = service.sessions.open("alice"), service.sessions.open("alice"), service.sessions.open("bob")
    assert service.set_password("alice", "un nouveau secret") == 2
    assert service.sessions.advisor(mine) is None and service.sessions.advisor(again) is None
    assert service.sessions.advisor(bobs) == "bob", "other advisors stay logged in"
    with pytest.raises(AuthenticationFailed):
        service.authenticate("alice", PASSWORD)
    assert service.authenticate("alice", "un nouveau secret").name == "alice"


def test_removing_an_advisor_ends_their_sessions_logins_and_actions(service):
    sub = service.submit("Puis-je exiger un label ?")
    service.validate(sub.id, "bob", "Oui.")
    sid = service.sessions.open("bob")
    assert service.remove_advisor("bob") == 1
    assert service.sessions.advisor(sid) is None
    with pytest.raises(AuthenticationFailed):
        service.authenticate("bob", PASSWORD)
    other = service.submit("Et un écolabel ?")
    with pytest.raises(UnknownAdvisor, match="was removed"):
        service.claim(other.id, "bob")
    assert [a.name for a in service.advisors()] == ["alice"]
    assert service.show(sub.id).answer.advisor == "bob", "past work keeps the advisor's name"
    with pytest.raises(UnknownAdvisor):
        service.remove_advisor("bob")
    service.add_advisor("bob", "de retour parmi nous")
    assert service.authenticate("bob", "de retour parmi nous").name == "bob", "adding again gives the account back"


def test_a_short_new_password_is_refused(service):
    from assistant.review.errors import InvalidInput

    with pytest.raises(InvalidInput, match="at least"):
        service.set_password("alice", "court")
    assert service.authenticate("alice", PASSWORD).name == "alice"


def test_checks_under_way_are_bounded_per_process(service, monkeypatch):
    monkeypatch.setattr(accounts_module, "VERIFY_WAIT_S", 0.0)
    held = [service.accounts._turns.acquire() for _ in range(VERIFY_CONCURRENCY)]
    try:
        with pytest.raises(RateLimited, match="being checked at once"):
            service.authenticate("alice", PASSWORD)
    finally:
        for _ in held:
            service.accounts._turns.release()


def test_a_database_of_the_previous_version_gets_sessions_and_limits(home, service):
    service.close()
    with sqlite3.connect(home / "review.sqlite") as conn:  # back to version 2's schema
        conn.executescript("""
            DROP TABLE advisor_sessions;
            DROP TABLE limit_hits;
            ALTER TABLE advisors DROP COLUMN removed_at;
            ALTER TABLE outbox DROP COLUMN message_id;
            ALTER TABLE outbox DROP COLUMN next_attempt_at;
            ALTER TABLE drafts DROP COLUMN peers;
            ALTER TABLE questions DROP COLUMN sealed_token;
            DELETE FROM schema_version WHERE version > 2;
        """)
    reopened = review_service(Settings(home=home), password_hasher=CountingHasher())
    sid = reopened.sessions.open("alice")
    assert reopened.sessions.advisor(sid) == "alice" and reopened.remove_advisor("alice") == 1
    reopened.limits.take(("address:203.0.113.9", 1, 60))
    assert [a.name for a in reopened.advisors()] == ["bob"]
    reopened.close()
