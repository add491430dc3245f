"""Retry storm: 1,000 clients, a 10 s outage, then recovery — simulated with the SDK's own
sans-IO policies on a simulated clock.

Three client set-ups, the same retry schedule shape (4 retries, base 1 s, x2, cap 30 s):

- ``deterministic``: exponential backoff without jitter (waits 1, 2, 4, 8 s) — the
  :class:`~soniox.middleware.retry.RetryPolicy` fed a "random" draw that always answers the top
  of the range;
- ``full jitter``: the same policy with full jitter (waits ``U(0, 1), U(0, 2), …``);
- ``ours``: full jitter + the retry budget (:class:`~soniox.middleware.RetryBudget`, 500 /
  5 / 10) + the adaptive rate limit (:class:`~soniox.middleware.AdaptiveRate`), one of each per
  client, exactly as the ``retry`` and ``rate_limit`` middleware use them.

The world (a discrete-event simulation; nothing sleeps):

- each client calls the API open-loop (Poisson, ``--rate`` calls a second; default 5, so 5,000
  calls a second in all), each call with a 30 s deadline;
- the server answers in 50 ms and can serve 1.2x the steady load; beyond that it sheds load
  with an immediate 429 (a token bucket: 1.2x steady a second, 100 ms of burst);
- from t=10 s to t=20 s it is down: every attempt gets an immediate 503.

Measured at the server, in 1 s windows: the steady load (before the outage), the peak after
recovery (÷ steady; the target for ``ours`` is <= 1.5x), the time to recover (from the end of
the outage until every later window is within 1.1x steady with >= 99 % of attempts answered
200), the peak during the outage (how hard the clients hit a server that is down) and the calls
that failed. Medians of ``--seeds`` runs. Results go to docs/performance.md; the load at the
server over time (per set-up, first seed) and the summary go to docs/data/retry_storm.json (to
``$SONIOX_BENCH_DATA_DIR`` instead if set; a ``--quick`` or ``--no-record`` run writes them only
then), from which ``python benchmarks/plots.py retry_storm`` draws docs/img/retry_storm.png.
Run:

    python benchmarks/bench_retry_storm.py             # ~1-2 minutes
    python benchmarks/bench_retry_storm.py --quick     # 200 clients, one seed (a smoke run)
"""

from __future__ import annotations

import argparse
import heapq
import os
import random
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import attrs
from _util import record_data, record_section, table

from soniox.middleware.rate_limit import AdaptiveRate, RateLimitPolicy, RateLimitState, Refused
from soniox.middleware.retry import Backoff, RetryIn, RetryPolicy
from soniox.middleware.retry_budget import BudgetState, RetryBudget
from soniox.transport import URL, Request, RequestOptions, Response

OUTAGE = (10.0, 20.0)
END = 60.0
BIN = 0.1  # seconds per load bin
WINDOW = 10  # bins per 1 s window
LATENCY = 0.05
ERROR_LATENCY = 0.005
DEADLINE = 30.0
CAPACITY = 1.2  # x steady load
TARGET = 1.5  # peak after recovery, x steady load, for "ours"
RETRY_POLICY = RetryPolicy(max_retries=4, backoff=Backoff(base=1.0, factor=2.0, cap=30.0))
URL_ = URL.parse("https://api.example/v1/transcriptions/job")


class TopOfRange(random.Random):
    """A draw that always answers the top of the range: backoff without jitter."""

    def uniform(self, a: float, b: float) -> float:
        return b


@attrs.define
class Setup:
    name: str
    jitter: bool
    budget: RetryBudget | None = None
    limit: RateLimitPolicy | None = None


def ours(capacity: int = 500) -> Setup:
    """Full jitter + the retry budget + the adaptive rate limit."""
    return Setup(
        "ours",
        jitter=True,
        budget=RetryBudget(capacity=capacity),
        limit=RateLimitPolicy(adaptive=AdaptiveRate()),
    )


SETUPS = (
    Setup("deterministic", jitter=False),
    Setup("full jitter", jitter=True),
    Setup("full jitter + budget", jitter=True, budget=RetryBudget()),
    ours(),
)
SENSITIVITY = ((1.0, 500), (2.0, 500), (10.0, 500), (1.0, 100), (2.0, 100))
"""(calls a second per client, budget capacity) for "ours", one seed each."""


@attrs.define(slots=True)
class Client:
    rng: random.Random
    budget: BudgetState | None
    limit: RateLimitState | None


@attrs.define(slots=True)
class Call:
    client: Client
    request: Request
    retries: int = 0
    previous: float | None = None
    spent: int = 0


@attrs.define
class Run:
    """One simulated run: attempts per bin (and how many of them were served), calls failed."""

    attempts: list[int]
    ok: list[int]
    failed: int
    failed_after: int  # calls started after the outage that failed anyway
    calls: int


def simulate(setup: Setup, clients: int, rate: float, seed: int) -> Run:
    bins = int(END / BIN) + 1
    attempts, ok = [0] * bins, [0] * bins
    steady = clients * rate
    server = _ServerBucket(CAPACITY * steady, CAPACITY * steady * BIN)
    responses = {s: Response.build(s, Request("GET", URL_)) for s in (200, 429, 503)}
    policy, budget, limit = RETRY_POLICY, setup.budget, setup.limit
    seq = 0
    events: list[tuple[float, int, int, Any]] = []  # (time, seq, kind, payload)
    arrive, attempt, send, answer = 0, 1, 2, 3
    failed = failed_after = calls = 0

    def push(t: float, kind: int, payload: Any) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(events, (t, seq, kind, payload))

    master = random.Random(seed)
    population: list[Client] = []
    for _ in range(clients):
        rng = random.Random(master.random()) if setup.jitter else TopOfRange(master.random())
        population.append(
            Client(
                rng,
                budget.new_state() if budget else None,
                limit.initial_state() if limit else None,
            )
        )
        push(rng.expovariate(rate), arrive, population[-1])

    def fail(call: Call) -> None:
        nonlocal failed, failed_after
        failed += 1
        if call.request.options.deadline - DEADLINE >= OUTAGE[1]:  # type: ignore[operator]
            failed_after += 1

    while events:
        now, _, kind, payload = heapq.heappop(events)
        if now > END:
            break
        if kind == arrive:
            client: Client = payload
            push(now + client.rng.expovariate(rate), arrive, client)
            options = RequestOptions(deadline=now + DEADLINE)
            calls += 1
            push(now, attempt, Call(client, Request("GET", URL_, options=options)))
        elif kind == attempt:
            call: Call = payload
            if limit is not None:
                decision = limit.reserve(
                    call.client.limit,  # type: ignore[arg-type]
                    "GET",
                    URL_.path,
                    now,
                    call.request.options.deadline,
                )
                if isinstance(decision, Refused):
                    fail(call)
                    continue
                push(now + decision.wait, send, call)
            else:
                push(now, send, call)
        elif kind == send:
            call = payload
            attempts[int(now / BIN)] += 1
            if OUTAGE[0] <= now < OUTAGE[1]:
                push(now + ERROR_LATENCY, answer, (call, 503))
            elif server.admit(now):
                ok[int(now / BIN)] += 1
                push(now + LATENCY, answer, (call, 200))
            else:
                push(now + ERROR_LATENCY, answer, (call, 429))
        else:
            call, status = payload
            client = call.client
            response = responses[status]
            if limit is not None:
                limit.observe(client.limit, now, limit.is_throttle(response))  # type: ignore[arg-type]
            if status == 200:
                if budget is not None:
                    refund = call.spent if call.retries else budget.success_refund
                    budget.refund(client.budget, refund)  # type: ignore[arg-type]
                continue
            decision = policy.decide(
                call.request,
                response,
                call.retries,
                now=now,
                wall=now,
                rng=client.rng,
                previous_delay=call.previous,
            )
            if not isinstance(decision, RetryIn):
                fail(call)
                continue
            if budget is not None:
                cost = budget.cost(response)
                if budget.withdraw(client.budget, cost) is None:  # type: ignore[arg-type]
                    fail(call)
                    continue
                call.spent = cost
            call.retries += 1
            call.previous = decision.delay
            push(now + decision.delay, attempt, call)
    return Run(attempts, ok, failed, failed_after, calls)


class _ServerBucket:
    """The server's admission control: serve while its bucket has a token, else 429."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.stamp = burst, 0.0

    def admit(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


# --- measures ----------------------------------------------------------------------------------


def windows(series: Sequence[int]) -> list[float]:
    """Sums over 1 s windows starting at every bin (requests a second)."""
    return [float(sum(series[i : i + WINDOW])) for i in range(len(series) - WINDOW)]


@attrs.frozen
class Measures:
    steady: float
    peak_after: float
    peak_outage: float
    recover_s: float | None
    failed: int
    failed_after: int
    calls: int


def measure(run: Run) -> Measures:
    load, good = windows(run.attempts), windows(run.ok)
    start, end = int(OUTAGE[0] / BIN), int(OUTAGE[1] / BIN)
    steady = statistics.fmean(load[int(3 / BIN) : start - WINDOW])
    last = int(END / BIN) - 2 * WINDOW  # the last full windows
    peak_after = max(load[end:last])
    peak_outage = max(load[start:end])
    recovered: float | None = None
    for i in range(last - 1, end - 1, -1):
        healthy = load[i] <= 1.1 * steady and good[i] >= 0.99 * load[i]
        if not healthy:
            break
        recovered = i * BIN - OUTAGE[1]
    return Measures(
        steady,
        peak_after / steady,
        peak_outage / steady,
        recovered,
        run.failed,
        run.failed_after,
        run.calls,
    )


def figure_data(
    runs: dict[str, Run],
    steady: float,
    summary: dict[str, dict[str, float | None]],
    clients: int,
    rate: float,
    seeds: int,
) -> dict[str, object]:
    """What ``plot`` draws (docs/data/retry_storm.json): per set-up, the load at the server over
    time (x: start of each 1 s window, s; y: attempts in it ÷ ``steady``), the constants of the
    picture, and the medians of the table."""
    series: list[dict[str, object]] = []
    for name, run in runs.items():
        load = windows(run.attempts)
        series.append(
            {
                "name": name,
                "x": [round(i * BIN, 1) for i in range(len(load))],
                "y": [round(v / steady, 4) for v in load],
            }
        )
    return {
        "clients": clients,
        "rate_per_client": rate,
        "seeds": seeds,
        "steady_attempts_per_s": round(steady, 1),
        "outage_s": list(OUTAGE),
        "end_s": END,
        "window_s": WINDOW * BIN,
        "capacity": CAPACITY,
        "target": TARGET,
        "series": series,
        "summary": summary,
    }


def plot(data: dict[str, Any], fig: Any) -> None:
    """Attempts at the server ÷ steady load over time, one line per set-up, over the outage."""
    ax = fig.add_subplot(1, 1, 1)
    for series in data["series"]:
        ax.plot(series["x"], series["y"], label=series["name"], linewidth=1.4)
    ax.axvspan(*data["outage_s"], color="0.85", label="outage (503)")
    ax.axhline(data["capacity"], color="0.4", linestyle="--", linewidth=1, label="server capacity")
    ax.axhline(
        data["target"],
        color="black",
        linestyle=":",
        linewidth=1,
        label=f"{data['target']:g}x target",
    )
    ax.set_xlabel(f"time (s); load over the next {data['window_s']:g} s")
    ax.set_ylabel("attempts at the server ÷ steady load")
    ax.set_xlim(0, data["end_s"] - 2 * data["window_s"])  # the last full windows
    ax.legend(loc="upper right", fontsize=8)
    ax.grid(alpha=0.3)


def _fmt(value: float | None, unit: str = "s") -> str:
    return "not within the run" if value is None else f"{value:.1f} {unit}"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=5.0, help="calls a second per client")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    clients, seeds = (200, 1) if args.quick else (args.clients, args.seeds)

    results: dict[str, list[Measures]] = {}
    first: dict[str, Run] = {}
    cpu: dict[str, float] = {}
    for setup in SETUPS:
        began = time.perf_counter()
        for seed in range(seeds):
            run = simulate(setup, clients, args.rate, seed)
            results.setdefault(setup.name, []).append(measure(run))
            first.setdefault(setup.name, run)
        cpu[setup.name] = (time.perf_counter() - began) / seeds

    def med(name: str, field: Callable[[Measures], float | None]) -> float | None:
        values = [field(m) for m in results[name]]
        known = [v for v in values if v is not None]
        return statistics.median(known) if len(known) == len(values) else None

    rows = [row(setup.name, results[setup.name], med, cpu[setup.name]) for setup in SETUPS]
    steady = statistics.median(m.steady for ms in results.values() for m in ms)
    text = table(HEADERS, rows)
    print(text)
    best = med("ours", lambda m: m.peak_after)
    assert best is not None
    verdict = "meets" if best <= TARGET else "MISSES"
    print(f"\nours: peak after recovery {best:.2f}x steady — {verdict} the <= {TARGET:g}x target")

    sensitivity: list[list[object]] = []
    sens_text = ""
    if not args.quick:
        for rate, capacity in SENSITIVITY:
            m = measure(simulate(ours(capacity), clients, rate, 0))
            sensitivity.append(
                [
                    f"{rate:g}",
                    capacity,
                    f"{m.peak_after:.2f}x",
                    _fmt(m.recover_s),
                    f"{m.peak_outage:.2f}x",
                    f"{m.failed / m.calls * 100:.1f} %",
                ]
            )
        sens_text = table(SENSITIVITY_HEADERS, sensitivity)
        print("\n" + sens_text)

    summary = {
        setup.name: {
            "peak_after": med(setup.name, lambda m: m.peak_after),
            "recover_s": med(setup.name, lambda m: m.recover_s),
            "peak_outage": med(setup.name, lambda m: m.peak_outage),
            "failed_pct": med(setup.name, lambda m: m.failed / m.calls * 100),
            "failed_after": med(setup.name, lambda m: m.failed_after),
        }
        for setup in SETUPS
    }
    if not (args.quick or args.no_record) or os.environ.get("SONIOX_BENCH_DATA_DIR"):
        path = record_data(
            "retry_storm",
            title=f"Retry storm: {clients:,} clients, {OUTAGE[1] - OUTAGE[0]:g} s outage — "
            "load at the server",
            command="python benchmarks/bench_retry_storm.py",
            data=figure_data(
                first,
                measure(next(iter(first.values()))).steady,
                summary,
                clients,
                args.rate,
                seeds,
            ),
        )
        print(f"data: {path}")
    if args.quick or args.no_record:
        return
    body = f"""`python benchmarks/bench_retry_storm.py` — a discrete-event simulation (no sockets, no
sleeping) of {clients:,} clients calling open-loop at {args.rate:g} calls/s each
({steady:,.0f} attempts/s steady), 30 s deadlines; a server answering in 50 ms that serves up to
1.2x the steady load and sheds the rest with 429; down (immediate 503) from t=10 s to t=20 s.
Every client runs the SDK's own sans-IO objects — `RetryPolicy.decide` (4 retries, base 1 s,
x2, cap 30 s; "deterministic" is fed a draw that always answers the top of the range), and
`RetryBudget` (500 / 5 / 10) and `RateLimitPolicy(adaptive=AdaptiveRate())` where named — one
of each per client, as the `retry` and `rate_limit` middleware use them. Load is attempts
reaching the server per 1 s window; recovered = from then on every window is within 1.1x
steady with >= 99 % of attempts served. Medians of {seeds} seeds.

{text}

![load at the server over time](img/retry_storm.png)

- **Deterministic backoff** sends the retries of each second's failures back in lock-step waves
  (the steps 1, 3 and 7 s into the outage, the rebound 15 s after it began): ~4x the load on
  a server that is down, ~4x again the moment it is back, and the 429s of that overload feed
  more waves. Waiting longest, it also carries the most outage calls over into the recovery:
  the fewest calls fail, at the price of the longest overload.
- **Full jitter** spreads the same retries but removes none: as high a peak (its shorter mean
  waits put even more retries inside the window), a shorter tail.
- **The budget** is what stops the storm: a few seconds into the outage each client has spent
  its 500 tokens (~100 retries), so from then on a failure costs one attempt, not five, and
  almost nothing is queued for the moment of recovery; what remains is retries scheduled
  before it ran dry. The price is paid during the outage: calls made after the budget ran out
  fail instead of being retried into the recovery (more calls failed in all) — the trade the
  budget exists to make.
- **The adaptive limit** acts on the 429s of the recovery: it cannot lower the first second's
  peak (retries already on their way, before any 429 came back), but it trims each client
  right after — the load falls back to ~1.1x faster than with the budget alone and fewer calls
  started after the recovery fail — and then sends the calls it held back at the server's
  capacity, which can make the tail to "recovered" a little longer.

The budget must be sized to the client's volume. With fewer calls per client, 500 tokens
outlast a 10 s outage and only the adaptive limit acts (it brings the load back to ~1.2-1.5x
within a couple of seconds of recovery, then drains the calls it held back at capacity); a
smaller budget restores the effect ("ours", one seed each):

{sens_text}
"""
    record_section("performance.md", "Retry storm: 1,000 clients, 10 s outage", body)


HEADERS = [
    "client set-up",
    "peak after recovery ÷ steady",
    "time to recover",
    "peak during the outage ÷ steady",
    "calls failed",
    "failed calls started after recovery",
    "simulation CPU / run",
]
SENSITIVITY_HEADERS = [
    "calls/s per client",
    "budget",
    "peak after recovery ÷ steady",
    "time to recover",
    "peak during the outage ÷ steady",
    "calls failed",
]


def row(
    name: str,
    measures: list[Measures],
    med: Callable[[str, Callable[[Measures], float | None]], float | None],
    cpu: float,
) -> list[object]:
    def fmt(value: float | None, pattern: str) -> str:
        return "—" if value is None else pattern.format(value)

    return [
        name,
        fmt(med(name, lambda m: m.peak_after), "{:.2f}x"),
        _fmt(med(name, lambda m: m.recover_s)),
        fmt(med(name, lambda m: m.peak_outage), "{:.2f}x"),
        fmt(med(name, lambda m: m.failed / m.calls * 100), "{:.1f} %"),
        fmt(med(name, lambda m: m.failed_after), "{:.0f}"),
        f"{cpu:.1f} s",
    ]


if __name__ == "__main__":
    main()
