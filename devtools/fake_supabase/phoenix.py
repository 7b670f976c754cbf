"""Phoenix channel frames the way Supabase Realtime's serializers write and read them.

- vsn 1.0.0 (Phoenix.Socket.V1.JSONSerializer): JSON objects. The server writes `topic`, `event`, `payload`
  and `ref` only (no `join_ref`); clients may send `join_ref`.
- vsn 2.0.0 (RealtimeWeb.Socket.V2Serializer): JSON arrays `[join_ref, ref, topic, event, payload]`, plus two
  binary kinds: `user_broadcast_push` (3, client to server, what realtime-js sends for `channel.send` of a
  broadcast) and `user_broadcast` (4, server to client, the fan-out of such a push). Broadcasts that arrive as
  JSON (REST API, JSON pushes) go out as JSON arrays `[null, null, topic, "broadcast", payload]`."""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import Any, Literal

import msgspec

Vsn = Literal["1.0.0", "2.0.0"]
PayloadEncoding = Literal["json", "binary"]

_USER_BROADCAST_PUSH = 3
_USER_BROADCAST = 4


class FrameError(ValueError):
    """A frame the serializer cannot read (Realtime logs MalformedWebSocketMessage and drops it)."""


class Frame(msgspec.Struct):
    topic: str
    event: str
    payload: dict[str, Any]
    ref: str | None = None
    join_ref: str | None = None


class _V2Frame(msgspec.Struct, array_like=True):
    join_ref: str | None
    ref: str | None
    topic: str
    event: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class UserBroadcastPush:
    """A binary broadcast push from realtime-js (vsn 2.0.0); `payload` is the raw user payload bytes."""

    join_ref: str | None
    ref: str | None
    topic: str
    user_event: str
    metadata: dict[str, Any]
    encoding: PayloadEncoding
    payload: bytes


def negotiate(vsn: str) -> Vsn | None:
    """Phoenix accepts "~> 1.0.0" and "~> 2.0.0" (any patch level)."""
    parts = vsn.split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    if parts[:2] == ["1", "0"]:
        return "1.0.0"
    if parts[:2] == ["2", "0"]:
        return "2.0.0"
    return None


def decode_text(vsn: Vsn, text: str | bytes) -> Frame:
    try:
        if vsn == "1.0.0":
            return msgspec.json.decode(text, type=Frame)
        v2 = msgspec.json.decode(text, type=_V2Frame)
    except msgspec.DecodeError as error:
        raise FrameError(str(error)) from error
    return Frame(topic=v2.topic, event=v2.event, payload=v2.payload, ref=v2.ref, join_ref=v2.join_ref)


def decode_binary(data: bytes) -> UserBroadcastPush:
    if len(data) < 7 or data[0] != _USER_BROADCAST_PUSH:
        raise FrameError("only user_broadcast_push (kind 3) binary frames are accepted")
    join_ref_len, ref_len, topic_len, event_len, meta_len, encoding = struct.unpack_from("6B", data, 1)
    offset = 7
    fields: list[bytes] = []
    for size in (join_ref_len, ref_len, topic_len, event_len, meta_len):
        if offset + size > len(data):
            raise FrameError("binary frame shorter than its header says")
        fields.append(data[offset : offset + size])
        offset += size
    join_ref, ref, topic, event, meta = (f.decode() for f in fields)
    try:
        metadata = json.loads(meta) if meta else {}
    except ValueError as error:
        raise FrameError("metadata is not JSON") from error
    return UserBroadcastPush(
        join_ref=join_ref or None,
        ref=ref or None,
        topic=topic,
        user_event=event,
        metadata=metadata if isinstance(metadata, dict) else {},
        encoding="json" if encoding == 1 else "binary",
        payload=data[offset:],
    )


def encode(vsn: Vsn, frame: Frame) -> str:
    if vsn == "1.0.0":
        body = {"topic": frame.topic, "event": frame.event, "payload": frame.payload, "ref": frame.ref}
        return json.dumps(body, separators=(",", ":"))
    return json.dumps(
        [frame.join_ref, frame.ref, frame.topic, frame.event, frame.payload], separators=(",", ":")
    )


def encode_user_broadcast(
    topic: str, user_event: str, metadata: dict[str, Any] | None, encoding: PayloadEncoding, payload: bytes
) -> bytes:
    topic_b, event_b = topic.encode(), user_event.encode()
    meta_b = json.dumps(metadata, separators=(",", ":")).encode() if metadata else b""
    for name, value in (("topic", topic_b), ("user_event", event_b), ("metadata", meta_b)):
        if len(value) > 255:
            raise FrameError(f"{name} longer than 255 bytes")
    header = struct.pack(
        "5B", _USER_BROADCAST, len(topic_b), len(event_b), len(meta_b), 1 if encoding == "json" else 0
    )
    return header + topic_b + event_b + meta_b + payload


def reply(request: Frame, status: Literal["ok", "error"], response: dict[str, Any]) -> Frame:
    return Frame(
        topic=request.topic,
        event="phx_reply",
        payload={"status": status, "response": response},
        ref=request.ref,
        join_ref=request.join_ref,
    )
