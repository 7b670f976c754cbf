"""The fake Realtime's registry of sockets and joined channels, and broadcast fan-out.

A broadcast for sub-topic `t` reaches every channel joined as `realtime:t` whose `private` flag equals the
message's, as Realtime keeps public and private channels of one name on separate tenant topics."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from litestar import WebSocket

from fake_supabase.phoenix import Frame, FrameError, PayloadEncoding, Vsn, encode, encode_user_broadcast

logger = logging.getLogger(__name__)


@dataclass
class ChannelJoin:
    topic: str  # "realtime:<sub-topic>"
    join_ref: str | None
    private: bool
    self_broadcast: bool
    ack_broadcast: bool
    presence_enabled: bool
    access_token: str
    claims: dict[str, Any]

    @property
    def sub_topic(self) -> str:
        return self.topic.removeprefix("realtime:")


@dataclass(eq=False)
class Connection:
    socket: WebSocket[Any, Any, Any]
    vsn: Vsn
    tenant_token: str
    channels: dict[str, ChannelJoin] = field(default_factory=dict)
    closed: bool = False
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def send_frame(self, frame: Frame) -> None:
        await self._send(encode(self.vsn, frame))

    async def send_bytes(self, data: bytes) -> None:
        await self._send(data)

    async def _send(self, data: str | bytes) -> None:
        if self.closed:
            return
        async with self._lock:
            try:
                if isinstance(data, bytes):
                    await self.socket.send_bytes(data)
                else:
                    await self.socket.send_text(data)
            except Exception:  # a vanished client must not break a fan-out to the others
                self.closed = True


class RealtimeHub:
    def __init__(self) -> None:
        self.connections: set[Connection] = set()

    def _targets(
        self, sub_topic: str, private: bool, sender: tuple[Connection, str] | None
    ) -> list[Connection]:
        topic = f"realtime:{sub_topic}"
        return [
            conn
            for conn in list(self.connections)
            if (join := conn.channels.get(topic)) is not None
            and join.private == private
            and (sender is None or sender != (conn, topic))
        ]

    async def broadcast_json(
        self,
        sub_topic: str,
        private: bool,
        payload: dict[str, Any],
        sender: tuple[Connection, str] | None = None,
    ) -> int:
        """Fan out `{type: broadcast, event, payload}` as a JSON frame; returns how many channels got it."""
        targets = self._targets(sub_topic, private, sender)
        frame = Frame(topic=f"realtime:{sub_topic}", event="broadcast", payload=payload)
        await asyncio.gather(*(conn.send_frame(frame) for conn in targets))
        return len(targets)

    async def broadcast_user(
        self,
        sub_topic: str,
        private: bool,
        user_event: str,
        encoding: PayloadEncoding,
        user_payload: bytes,
        sender: tuple[Connection, str] | None = None,
    ) -> int:
        """Fan out a binary-pushed broadcast: binary to vsn 2.0.0 sockets, converted to JSON for 1.0.0."""
        topic = f"realtime:{sub_topic}"
        sends = []
        for conn in self._targets(sub_topic, private, sender):
            if conn.vsn == "2.0.0":
                sends.append(
                    conn.send_bytes(encode_user_broadcast(topic, user_event, None, encoding, user_payload))
                )
            elif encoding == "json":
                try:
                    payload = {"event": user_event, "payload": json.loads(user_payload), "type": "broadcast"}
                except ValueError:
                    logger.info("dropping a broadcast whose JSON payload does not parse")
                    continue
                sends.append(conn.send_frame(Frame(topic=topic, event="broadcast", payload=payload)))
            # a binary payload cannot be converted for a vsn 1.0.0 socket: Realtime drops it too
        await asyncio.gather(*sends)
        return len(sends)


__all__ = ["ChannelJoin", "Connection", "FrameError", "RealtimeHub"]
