"""Supabase Realtime as a transport (`NOTIFIER=supabase`): server-side broadcast through Realtime's REST API
(`POST {SUPABASE_URL}/realtime/v1/api/broadcast`), topic `demo-<id>` without the `realtime:`
prefix, authenticated with the service key. On private channels an event of one conversation also goes,
in the same request, to the conversation's own topic `demo-<id>:<conversation_id>`: that is the topic a
viewer's Realtime token admits it to (Realtime authorises joins by topic, never by message), while
`demo-<id>` is for owners watching the whole demo. Realtime answers 202 when it took the message; browsers
joined to the topic with supabase-js receive it as a `broadcast` of the same event name.

Each attempt has a timeout; connection errors, timeouts, 429 and 5xx are retried a bounded number of times
with jittered exponential backoff (tenacity); any other answer is final. When no attempt succeeds the
event was not delivered: `TransportUnavailable` (502), and the webhook delivery stays retryable.

The broadcast payload is the event's payload plus `event_id` (stable across retried deliveries, so a
browser that received an event twice can drop the repeat; the hub carries it as the frame's `id`)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import httpx
from tenacity import (
    AsyncRetrying,
    RetryError,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)

from demo_relay.domain.errors import TransportUnavailable
from demo_relay.domain.models import ChannelEvent, private_topic_for

log = logging.getLogger(__name__)

BROADCAST_PATH = "/realtime/v1/api/broadcast"
NAME = "supabase"


class _Retryable(Exception):
    """An answer worth another attempt (429, 5xx)."""

    def __init__(self, status: int) -> None:
        super().__init__(f"Realtime answered {status}")
        self.status = status


def _worth_retrying(exc: BaseException) -> bool:
    return isinstance(exc, _Retryable | httpx.TransportError)


class SupabaseRealtimeNotifier:
    """The `Notifier` port on Supabase Realtime's REST broadcast."""

    name = NAME

    def __init__(
        self,
        http: httpx.AsyncClient,
        supabase_url: str,
        service_key: str,
        private: bool,
        *,
        attempts: int = 3,
        attempt_timeout_s: float = 2.0,
        total_timeout_s: float = 6.0,
        backoff_initial_s: float = 0.1,
        backoff_max_s: float = 1.0,
    ) -> None:
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self._http = http
        self._url = supabase_url.rstrip("/") + BROADCAST_PATH
        self._headers = {"apikey": service_key, "Authorization": f"Bearer {service_key}"}
        self._private = private
        self._attempts = attempts
        self._timeout = httpx.Timeout(attempt_timeout_s)
        self._total_timeout_s = total_timeout_s
        # multiplier·2ⁿ plus up to one more multiplier of jitter, capped (tenacity's default jitter is 1 s).
        self._wait = wait_exponential_jitter(
            multiplier=backoff_initial_s, jitter=backoff_initial_s, max=backoff_max_s
        )

    async def publish(self, event: ChannelEvent) -> tuple[str, ...]:
        body = {"messages": self.messages(event)}
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._attempts) | stop_after_delay(self._total_timeout_s),
            wait=self._wait,
            retry=retry_if_exception(_worth_retrying),
            reraise=False,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    await self._send(body)
        except RetryError as exc:
            cause = exc.last_attempt.exception()
            raise TransportUnavailable(
                f"Supabase Realtime did not take the broadcast after {exc.last_attempt.attempt_number} "
                f"attempt(s): {_describe(cause)}"
            ) from None
        return (NAME,)

    def messages(self, event: ChannelEvent) -> list[dict[str, Any]]:
        payload: dict[str, Any] = dict(event.payload)
        payload["event_id"] = event.id
        topics = [event.channel]
        conversation_id = payload.get("conversation_id")
        if self._private and isinstance(conversation_id, str) and conversation_id:
            topics.append(private_topic_for(event.channel, conversation_id))
        return [
            {"topic": topic, "event": str(event.event), "payload": payload, "private": self._private}
            for topic in topics
        ]

    async def _send(self, body: Mapping[str, Any]) -> None:
        response = await self._http.post(self._url, json=body, headers=self._headers, timeout=self._timeout)
        status = response.status_code
        if 200 <= status < 300:
            return
        if status == 429 or status >= 500:
            raise _Retryable(status)
        # 4xx: the request or our credentials are wrong; another attempt would be refused the same way.
        log.error("Supabase Realtime refused a broadcast: %s %s", status, response.text[:200])
        raise TransportUnavailable(f"Supabase Realtime refused the broadcast (status {status})")


def _describe(exc: BaseException | None) -> str:
    if exc is None:
        return "no answer"
    if isinstance(exc, _Retryable):
        return str(exc)
    return type(exc).__name__
