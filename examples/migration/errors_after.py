"""After — the same classes under their own names, and the distinctions the official SDK does not
make: a request that never left versus an answer that was lost, a deadline for the whole call."""

from soniox import SonioxClient
from soniox.errors import (
    DeadlineExceededError,
    NotFoundError,
    RequestNotSentError,
    ResponseLostError,
    SonioxNotFoundError,
)

assert NotFoundError is SonioxNotFoundError  # one class, two names: old excepts keep working
with SonioxClient() as client:
    try:
        client.with_options(deadline=10.0).stt.get("00000000-0000-4000-8000-000000000000")
    except NotFoundError as e:
        print(f"result: not found, HTTP {e.status_code}")
    except RequestNotSentError:
        print("never reached the server: safe to try again")
    except ResponseLostError:
        print("sent, answer lost: it may have been processed — look it up first")
    except DeadlineExceededError:
        print("the call's 10 s (every attempt and wait) ran out")
