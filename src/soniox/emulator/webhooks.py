"""Webhook delivery for finished transcriptions.

When a job reaches ``completed`` or ``error`` and has a ``webhook_url``, the emulator POSTs
``{"id": ..., "status": ...}`` to it, adding the configured auth header (name and value as the
client gave them; no signature, as the real service does). A connection failure, timeout or
non-2xx answer is retried ``webhook_attempts`` times in total with ``webhook_retry_delay_s``
between; the last HTTP status received is stored in ``webhook_status_code`` (``None`` when no
attempt got an answer). Proxies from the environment are ignored: receivers are local.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import attrs
import httpx

from .config import EmulatorConfig

__all__ = ["WebhookDelivery", "WebhookSender"]

log = logging.getLogger("soniox.emulator.webhooks")


@attrs.frozen(kw_only=True)
class WebhookDelivery:
    """What to send for one finished transcription (the header value is never shown)."""

    transcription_id: str
    status: str
    url: str
    header_name: str | None = None
    header_value: str | None = attrs.field(default=None, repr=False)


class WebhookSender:
    """Sends deliveries in background tasks; :meth:`aclose` cancels what is still pending."""

    def __init__(self, config: EmulatorConfig) -> None:
        self._config = config
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def __repr__(self) -> str:
        return f"WebhookSender({len(self._tasks)} pending)"

    @property
    def pending(self) -> int:
        """Deliveries still in progress (being sent or waiting to retry)."""
        return len(self._tasks)

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self._config.webhook_timeout_s,
                trust_env=False,
                follow_redirects=False,
                headers={"user-agent": "soniox-emulator-webhooks"},
            )
        return self._client

    def dispatch(self, delivery: WebhookDelivery, record_status: Callable[[int], None]) -> None:
        """Start delivering in the background; ``record_status`` gets each status received."""
        task = asyncio.get_running_loop().create_task(self._deliver(delivery, record_status))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(
        self, delivery: WebhookDelivery, record_status: Callable[[int], None]
    ) -> None:
        headers: dict[str, str] = {}
        if delivery.header_name and delivery.header_value is not None:
            headers[delivery.header_name] = delivery.header_value
        payload = {"id": delivery.transcription_id, "status": delivery.status}
        attempts = self._config.webhook_attempts
        for attempt in range(1, attempts + 1):
            try:
                response = await self._http().post(delivery.url, json=payload, headers=headers)
            except Exception as exc:  # connection, timeout, protocol or URL errors alike
                # Only the exception type is logged: its text could echo request details.
                log.info(
                    "webhook for %s attempt %d/%d failed: %s",
                    delivery.transcription_id,
                    attempt,
                    attempts,
                    type(exc).__name__,
                )
            else:
                record_status(response.status_code)
                if response.is_success:
                    return
                log.info(
                    "webhook for %s attempt %d/%d got HTTP %d",
                    delivery.transcription_id,
                    attempt,
                    attempts,
                    response.status_code,
                )
            if attempt < attempts:
                await asyncio.sleep(self._config.webhook_retry_delay_s)

    async def aclose(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None
