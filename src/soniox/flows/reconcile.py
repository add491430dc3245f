"""Finding out what happened to a call whose answer was lost: look-ups that do not give up early.

A create, upload or delete whose answer was lost (a reset, a truncated body, a timeout, a 5xx)
may have been carried out. The only way to know is to ask the server — list the jobs or files
carrying the call's ``client_reference_id``, or get the object — and those look-ups run into the
same faults. :func:`look_up_flow` repeats a look-up (its requests are idempotent GETs, already
retried by the stack) with backoff until it answers or the call's deadline passes (without one,
:data:`RECONCILE_TIMEOUT_S`), and then raises :class:`~soniox.errors.OutcomeUnknownError` —
which names the reference and the call that tells — instead of reporting the operation as
failed while the server may have done it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Final, TypeVar

from soniox.errors import OutcomeUnknownError, SonioxAPIError, SonioxError, SonioxTimeoutError
from soniox.errors import TransportError as _TransportError
from soniox.middleware import Backoff, Flow, get_clock, sleep

__all__ = ["RECONCILE_TIMEOUT_S", "is_transient", "look_up_flow", "persist_flow"]

T = TypeVar("T")

RECONCILE_TIMEOUT_S: Final = 60.0
"""How long a look-up may keep trying when the call has no deadline of its own."""
_BACKOFF: Final = Backoff(0.1, 2.0, 2.0)
_RNG = random.Random()


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` says nothing about the outcome (try again): a transport failure, a
    timeout, or a retryable status (408, 429, 5xx)."""
    if isinstance(error, _TransportError | SonioxTimeoutError):
        return True
    return isinstance(error, SonioxAPIError) and error.retryable


def persist_flow(attempt: Callable[[], Flow[T]], *, deadline: float | None) -> Flow[T]:
    """``attempt()``'s result, attempted again after transient failures (each attempt already
    retried by the stack) with backoff — honouring a server's Retry-After — until ``deadline``
    (absolute, on the transport clock; None: :data:`RECONCILE_TIMEOUT_S` from now); then the last
    transient error is raised. A non-transient error is raised at once.

    For calls that must not give up after a few retries: the look-ups that find out what a lost
    call did, and the deletes of clean-up."""
    clock = yield from get_clock()
    end = deadline if deadline is not None else clock.now() + RECONCILE_TIMEOUT_S
    tries = 0
    while True:
        try:
            return (yield from attempt())
        except SonioxError as error:
            if not is_transient(error):
                raise
            delay = error.retry_after if isinstance(error, SonioxAPIError) else None
            if delay is None:
                delay = _BACKOFF.delay(tries, _RNG)
            if clock.now() + delay >= end:
                error.add_note(f"gave up after {tries + 1} attempt(s): the deadline was near")
                raise
        yield from sleep(delay)
        tries += 1


def look_up_flow(
    look: Callable[[], Flow[T]],
    *,
    deadline: float | None,
    operation: str,
    client_reference_id: str | None = None,
    resource_id: str | None = None,
    recovery: str,
) -> Flow[T]:
    """``look()``'s answer, asked again after transient failures until ``deadline`` (absolute,
    on the transport clock; None: :data:`RECONCILE_TIMEOUT_S` from now); then
    OutcomeUnknownError. A non-transient error (401, 404 …) is raised as it is."""
    try:
        return (yield from persist_flow(look, deadline=deadline))
    except SonioxError as last:
        if not is_transient(last):
            raise
        unknown = OutcomeUnknownError(
            f"the answer to {operation} was lost and looking it up could not tell whether it "
            f"was carried out ({type(last).__name__}); find out with {recovery}",
            operation=operation,
            client_reference_id=client_reference_id,
            resource_id=resource_id,
            recovery=recovery,
        )
        raise unknown from last
