"""The account's pending-transcription limit, kept by every process on the key.

Soniox refuses a create past 100 transcriptions waiting to start (``429 limit_exceeded``,
soniox-api.md §3.5). With ``SonioxConfig.pending_transcriptions_limit`` set, a transcription
(``transcribe``, each ``transcribe_many`` item) first leases one of that many slots — in the
client's shared state (Redis with ``shared_state``; this process's otherwise) — waiting its turn
within the call's deadline; the lease is renewed at every poll while the job waits to start, and
given back once it has started, failed, or its creation failed. The slot is held under the job's
``client_reference_id``, so any wait for the job — ``stt.wait`` after a separate create, another
process, a retried attempt of a worker that died — renews and frees it; a job nobody waits for
keeps its slot until ``pending_lease_ttl`` passes.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from soniox.config import SonioxConfig
from soniox.errors import RateLimitWaitError
from soniox.middleware import Flow, get_clock
from soniox.middleware.metrics import find_metrics
from soniox.middleware.observe import wait
from soniox.middleware.state import quota_state_for, shared_lease, shared_release
from soniox.shared import SharedState
from soniox.types import Transcription, TranscriptionStatus

from .protocol import ApiClient

__all__ = ["PENDING", "PendingQuota", "pending_quota_for", "pending_quota_of"]

PENDING = "pending_transcriptions"


@attrs.frozen
class PendingQuota:
    """Where the slots live, for whom, how many, for how long."""

    state: SharedState = attrs.field(eq=False)
    scope: str
    limit: int
    ttl_s: float
    report: Callable[[str, float], None] | None = attrs.field(default=None, eq=False)
    """Told the seconds an acquire waited (``Metrics.record_wait``): waits between calls."""

    def acquire(self, holder: str, deadline: float | None) -> Flow[None]:
        """Lease a slot for ``holder``, waiting for one (not past ``deadline``)."""
        clock = yield from get_clock()
        started = clock.now()
        try:
            yield from self._acquire(holder, deadline, clock.now)
        finally:
            if self.report is not None:
                self.report(PENDING, clock.now() - started)

    def _acquire(self, holder: str, deadline: float | None, now: Callable[[], float]) -> Flow[None]:
        while True:
            grant = yield from shared_lease(
                self.state, self.scope, PENDING, holder, self.limit, self.ttl_s
            )
            if grant.granted:
                return
            pause = min(grant.wait_s, 1.0)
            if deadline is not None and now() + pause >= deadline:
                raise RateLimitWaitError(
                    f"all {self.limit} pending-transcription slots of the key are taken, past "
                    "the call's deadline: failing now instead of waiting",
                    wait=grant.wait_s,
                    limit=PENDING,
                    timeout=max(0.0, deadline - now()),
                )
            yield from wait(max(pause, 0.05), PENDING)  # a wait observers see by its reason

    def release(self, holder: str) -> Flow[None]:
        yield from shared_release(self.state, self.scope, PENDING, holder)

    def keeper(self, holder: str | None = None) -> Callable[[Transcription], Flow[None]]:
        """What a wait does after each poll: renew the slot while the job is queued, give it
        back once it is not (once). ``holder`` None: the job's ``client_reference_id`` — the
        holder its creator leased under, so whoever waits for a job (another process, a
        retried attempt) looks after its slot."""
        released = False

        def keep(job: Transcription) -> Flow[None]:
            nonlocal released
            name = holder if holder is not None else job.client_reference_id
            if released or not name:
                return
            if job.status == TranscriptionStatus.QUEUED:
                yield from shared_lease(
                    self.state, self.scope, PENDING, name, self.limit, self.ttl_s
                )
                return
            released = True
            yield from self.release(name)

        return keep


def pending_quota_for(
    config: SonioxConfig, report: Callable[[str, float], None] | None = None
) -> PendingQuota | None:
    """The pending-transcription quota a config asks for (None: unchecked); ``report`` hears
    the seconds each acquire waited."""
    limit = config.pending_transcriptions_limit
    if limit is None:
        return None
    state, scope = quota_state_for(config)
    return PendingQuota(state, scope, limit, config.pending_lease_ttl, report)


def pending_quota_of(client: ApiClient) -> PendingQuota | None:
    """:func:`pending_quota_for` the client's config, its waits reported to the client's
    metrics (``snapshot().waits["pending_transcriptions"]``)."""
    if client.config.pending_transcriptions_limit is None:
        return None
    return pending_quota_for(client.config, find_metrics(client.stack).record_wait)
