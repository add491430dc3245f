"""The native HTTP/1.1 lane's pool book: which idle connection a request takes, which are kept."""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    precondition,
    rule,
)

from soniox.transport.h1_protocol import Connection as Conn
from soniox.transport.h1_protocol import Origin, PoolBook

A: Origin = ("http", "a.example", 80)
B: Origin = ("https", "b.example", 443)


def book(
    max_connections: int | None = None,
    max_keepalive: int | None = None,
    keepalive_expiry: float | None = None,
) -> PoolBook[Conn]:
    return PoolBook[Conn](max_connections, max_keepalive, keepalive_expiry)


def opened(pool: PoolBook[Conn], origin: Origin = A) -> Conn:
    """A new connection in a slot taken from ``pool``."""
    assert pool.reserve([])
    return Conn(origin)


# --- reuse ------------------------------------------------------------------------------------


def test_the_most_recently_returned_connection_is_taken_first() -> None:
    """Idle connections are reused last in, first out."""
    pool = book()
    first, second = opened(pool), opened(pool)
    assert pool.checkin(first, True, now=1.0)
    assert pool.checkin(second, True, now=2.0)
    assert pool.checkout(A, 3.0, []) is second
    assert pool.checkout(A, 3.0, []) is first
    assert pool.checkout(A, 3.0, []) is None
    assert (pool.busy, pool.idle) == (2, 0)


def test_checkout_takes_only_connections_of_the_same_origin() -> None:
    """A request never rides an idle connection to another origin."""
    pool = book()
    assert pool.checkin(opened(pool, B), True, now=1.0)
    assert pool.checkout(A, 1.0, []) is None
    assert (pool.busy, pool.idle) == (0, 1)


def test_checkin_stamps_the_idle_time() -> None:
    """A connection kept idle remembers when it was returned."""
    pool = book()
    conn = opened(pool)
    pool.checkin(conn, True, now=42.0)
    assert conn.idle_since == 42.0
    assert pool.idle_connections() == [conn]


# --- keep-alive expiry ------------------------------------------------------------------------


def test_an_expired_idle_connection_is_handed_back_to_close() -> None:
    """Idle longer than keepalive_expiry: not reused, given to the caller to close."""
    pool = book(keepalive_expiry=5.0)
    conn = opened(pool)
    pool.checkin(conn, True, now=10.0)
    expired: list[Conn] = []
    assert pool.checkout(A, 15.5, expired) is None
    assert expired == [conn]
    assert (pool.busy, pool.idle) == (0, 0)


def test_a_connection_idle_exactly_the_expiry_is_still_reused() -> None:
    """The expiry is exclusive: idle for exactly keepalive_expiry seconds is still fine."""
    pool = book(keepalive_expiry=5.0)
    conn = opened(pool)
    pool.checkin(conn, True, now=10.0)
    expired: list[Conn] = []
    assert pool.checkout(A, 15.0, expired) is conn
    assert expired == []


def test_expired_connections_are_skipped_for_a_fresh_one() -> None:
    """Expired connections go to ``expired`` and a fresher one of the origin is taken."""
    pool = book(keepalive_expiry=5.0)
    fresh, stale = opened(pool), opened(pool)
    pool.checkin(fresh, True, now=9.0)
    pool.checkin(stale, True, now=2.0)  # returned last, but idle since long ago
    expired: list[Conn] = []
    assert pool.checkout(A, 10.0, expired) is fresh
    assert expired == [stale]
    assert (pool.busy, pool.idle) == (1, 0)


def test_no_expiry_keeps_idle_connections_forever() -> None:
    """keepalive_expiry=None: an idle connection is reused however old."""
    pool = book(keepalive_expiry=None)
    conn = opened(pool)
    pool.checkin(conn, True, now=0.0)
    assert pool.checkout(A, 1e9, []) is conn


# --- max_connections --------------------------------------------------------------------------


def test_reserve_fails_at_max_connections() -> None:
    """With every slot busy, a new connection may not open."""
    pool = book(max_connections=2)
    opened(pool)
    opened(pool)
    expired: list[Conn] = []
    assert not pool.reserve(expired)
    assert (pool.busy, expired) == (2, [])


def test_idle_connections_count_toward_max_connections() -> None:
    """An idle connection holds a slot: at the cap, one must go before another opens."""
    pool = book(max_connections=1)
    conn = opened(pool)
    pool.checkin(conn, True, now=1.0)
    expired: list[Conn] = []
    assert pool.reserve(expired)
    assert expired == [conn]  # evicted to make room
    assert (pool.busy, pool.idle) == (1, 0)


def test_reserve_at_the_cap_evicts_the_oldest_idle_connection() -> None:
    """At the cap, the idle connection idle the longest (any origin) makes room."""
    pool = book(max_connections=3)
    old, newer, busy = opened(pool, B), opened(pool, A), opened(pool, A)
    pool.checkin(newer, True, now=5.0)
    pool.checkin(old, True, now=1.0)
    expired: list[Conn] = []
    assert pool.reserve(expired)
    assert expired == [old]
    assert pool.idle_connections() == [newer]
    assert (pool.busy, pool.idle) == (2, 1)
    assert busy.origin == A


def test_release_frees_a_slot() -> None:
    """A slot whose connection failed or closed is free again."""
    pool = book(max_connections=1)
    opened(pool)
    assert not pool.reserve([])
    pool.release()
    assert pool.busy == 0
    assert pool.reserve([])


def test_no_max_connections_means_no_bound() -> None:
    """max_connections=None: reserve always succeeds."""
    pool = book(max_connections=None)
    for _ in range(1000):
        assert pool.reserve([])
    assert pool.busy == 1000


# --- max_keepalive ----------------------------------------------------------------------------


def test_checkin_beyond_max_keepalive_is_refused() -> None:
    """More idle connections than max_keepalive: checkin says close it."""
    pool = book(max_keepalive=1)
    first, second = opened(pool), opened(pool)
    assert pool.checkin(first, True, now=1.0)
    assert not pool.checkin(second, True, now=1.0)
    assert (pool.busy, pool.idle) == (0, 1)


def test_max_keepalive_zero_keeps_nothing() -> None:
    """max_keepalive=0: every connection is closed after its request."""
    pool = book(max_keepalive=0)
    assert not pool.checkin(opened(pool), True, now=1.0)
    assert (pool.busy, pool.idle) == (0, 0)


def test_an_unreusable_connection_is_never_kept() -> None:
    """A connection whose answer was not reusable is not kept idle."""
    pool = book()
    assert not pool.checkin(opened(pool), False, now=1.0)
    assert (pool.busy, pool.idle) == (0, 0)


def test_drain_empties_the_idle_connections() -> None:
    """drain() hands over every idle connection, every origin."""
    pool = book()
    a, b = opened(pool, A), opened(pool, B)
    pool.checkin(a, True, now=1.0)
    pool.checkin(b, True, now=1.0)
    assert set(map(id, pool.drain())) == {id(a), id(b)}
    assert (pool.idle, pool.idle_connections()) == (0, [])


# --- the invariants, whatever happens ---------------------------------------------------------

LIMITS = st.none() | st.integers(0, 4)


class PoolBookMachine(RuleBasedStateMachine):
    """Random reserve/checkout/checkin/release/drain sequences against a pool book."""

    held = Bundle("held")

    def __init__(self) -> None:
        super().__init__()
        self.pool = book()
        self.now = 0.0
        self.busy: set[int] = set()
        self.closed: set[int] = set()
        self.made: list[Conn] = []  # every connection, alive, so no id() is reused

    @initialize(
        max_connections=LIMITS,
        max_keepalive=LIMITS,
        expiry=st.none() | st.floats(0.0, 10.0),
    )
    def configure(
        self, max_connections: int | None, max_keepalive: int | None, expiry: float | None
    ) -> None:
        self.pool = book(max_connections, max_keepalive, expiry)

    @rule(dt=st.floats(0.0, 4.0))
    def tick(self, dt: float) -> None:
        self.now += dt

    def _closing(self, expired: list[Conn]) -> None:
        for conn in expired:
            assert id(conn) not in self.busy
            self.closed.add(id(conn))

    @rule(target=held, origin=st.sampled_from([A, B]))
    def reserve(self, origin: Origin) -> Conn | None:
        expired: list[Conn] = []
        before = self.pool.busy + self.pool.idle
        if not self.pool.reserve(expired):
            limit = self.pool.max_connections
            assert limit is not None
            assert before >= limit
            assert self.pool.idle == 0
            assert expired == []
            return None
        self._closing(expired)
        conn = Conn(origin)
        self.made.append(conn)
        self.busy.add(id(conn))
        return conn

    @rule(target=held, origin=st.sampled_from([A, B]))
    def checkout(self, origin: Origin) -> Conn | None:
        expired: list[Conn] = []
        conn = self.pool.checkout(origin, self.now, expired)
        self._closing(expired)
        if conn is None:
            return None
        assert conn.origin == origin
        assert id(conn) not in self.closed
        expiry = self.pool.keepalive_expiry
        assert expiry is None or self.now - conn.idle_since <= expiry
        self.busy.add(id(conn))
        return conn

    @rule(conn=consumes(held), reusable=st.booleans())
    def checkin(self, conn: Conn | None, reusable: bool) -> None:
        if conn is None:
            return
        self.busy.discard(id(conn))
        idle = self.pool.idle
        kept = self.pool.checkin(conn, reusable, self.now)
        limit = self.pool.max_keepalive
        assert kept == (reusable and (limit is None or idle < limit))
        if not kept:
            self.closed.add(id(conn))

    @rule(conn=consumes(held))
    def release(self, conn: Conn | None) -> None:
        if conn is None:
            return
        self.busy.discard(id(conn))
        self.closed.add(id(conn))
        self.pool.release()

    @precondition(lambda self: self.pool.idle > 0)
    @rule()
    def drain(self) -> None:
        self._closing(self.pool.drain())

    @invariant()
    def counts_match_and_stay_in_bounds(self) -> None:
        pool = self.pool
        idle = pool.idle_connections()
        assert pool.busy == len(self.busy) >= 0
        assert pool.idle == len(idle) >= 0
        assert not {id(c) for c in idle} & (self.busy | self.closed)
        if pool.max_connections is not None:
            assert pool.busy + pool.idle <= pool.max_connections
        if pool.max_keepalive is not None:
            assert pool.idle <= pool.max_keepalive


TestPoolBookMachine = PoolBookMachine.TestCase
TestPoolBookMachine.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
