"""Multi-step workflows, written once as sans-IO flows and run by the sync and async drivers.

A flow is a generator of effects (:mod:`soniox.middleware.engine`): it never does I/O itself, so
:class:`~soniox.client.SonioxClient` and :class:`~soniox.client.AsyncSonioxClient` run the very
same code. The modules:

- :mod:`.polling` — :class:`PollingPolicy` (adaptive, pure) and the learned processing rates;
- :mod:`.transcriptions` — every ``/transcriptions`` operation; create exactly once; wait;
- :mod:`.transcribe` — upload → create → wait → transcript → clean-up;
- :mod:`.batch` — ``transcribe_many`` drivers (a thread pool; worker tasks);
- :mod:`.payload` — job options and their client-side checks;
- :mod:`.effects` — :func:`shielded` clean-up and :func:`cancellable` batch items;
- :mod:`.files`, :mod:`.uploads` — every ``/files`` operation; streamed, retry-safe uploads;
- :mod:`.pages`, :mod:`.deletion`, :mod:`.checks` — pagination, deletes whose answer may be
  lost, and argument checks, shared by every resource;
- :mod:`.protocol` — what a flow needs from a client (both clients are one).
"""

from __future__ import annotations

from .batch import BatchResult
from .effects import FlowCancelled, cancellable, shielded
from .payload import DEFAULT_MODEL, TranscriptionOptions
from .polling import (
    DEFAULT_POLLING,
    PollingPolicy,
    PollPlan,
    PollState,
    ProcessingRates,
    processing_rates,
)
from .transcribe import TranscribeOutcome, transcribe_flow
from .transcriptions import create_flow, wait_flow

__all__ = [
    "DEFAULT_MODEL",
    "DEFAULT_POLLING",
    "BatchResult",
    "FlowCancelled",
    "PollPlan",
    "PollState",
    "PollingPolicy",
    "ProcessingRates",
    "TranscribeOutcome",
    "TranscriptionOptions",
    "cancellable",
    "create_flow",
    "processing_rates",
    "shielded",
    "transcribe_flow",
    "wait_flow",
]
