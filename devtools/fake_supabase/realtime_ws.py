"""Realtime's WebSocket, `/realtime/v1/websocket?apikey=...&vsn=1.0.0|2.0.0`: Phoenix channels as
supabase/realtime (RealtimeWeb.UserSocket, RealtimeChannel, Phoenix 1.8's socket) runs them.

Faithful:
- handshake: `apikey` query param (or `x-api-key` header) must be a JWT signed with the project secret, with
  `role` and `exp`, not expired; otherwise HTTP 401 `{"error": ...}` like UserSocket.handle_error; a vsn
  outside ~> 1.0.0 / ~> 2.0.0 gets 403;
- `heartbeat` on `phoenix` -> `phx_reply ok {}`; a socket that sends nothing for `idle_timeout_s` (Phoenix's
  60 s default) is closed, so a client that stops heart-beating is dropped;
- `phx_join` on `realtime:<topic>`: the access token is the join's `access_token` (or `user_token`), else the
  socket's apikey; it must verify (errors as RealtimeChannel words them, e.g. "JwtSignatureError: Failed to
  validate JWT signature"); a private join also needs the read policy (service_role, or `authorize(topic,
  claims)`, default: role `authenticated`), else `{"reason": "Unauthorized: You do not have permissions to
  read from this Channel topic: <topic>"}`; ok -> `{status: ok, response: {postgres_changes: [...]}}` echoing
  the requested bindings with ids; presence enabled -> an empty `presence_state`; a second join of the same
  topic closes the first (phx_close) first;
- `phx_leave` -> reply ok, then `phx_close` (ref = join_ref); unknown topics -> `unmatched topic` errors;
- `broadcast` pushes (JSON, or vsn 2.0.0 binary user_broadcast_push) fan out to the other channels of the
  topic with the same `private`, to the sender too when `broadcast.self`, with an ok reply when
  `broadcast.ack`; private pushes need the write policy (same hook); binary pushes go to 2.0.0 sockets as
  binary user_broadcast frames and to 1.0.0 sockets as JSON;
- `access_token` pushes are not answered; a token that no longer verifies or authorizes a private channel
  gets a `system` error message and `phx_close`; `presence` pushes get `ok`.

Not faithful: no presence state or diffs, no postgres_changes events, no replay, no rate limits, and tokens
are not re-checked when they expire mid-channel."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import zlib
from typing import Any

from litestar import WebSocket, websocket
from litestar.handlers import WebsocketRouteHandler

from fake_supabase.fake import FakeSupabase
from fake_supabase.hub import ChannelJoin, Connection
from fake_supabase.keys import TokenError, verify_token
from fake_supabase.phoenix import Frame, FrameError, decode_binary, decode_text, negotiate, reply

logger = logging.getLogger(__name__)

_CONNECT_ERRORS = {
    "malformed": "The token provided is not a valid JWT",
    "signature": "Failed to validate JWT signature",
    "expired": "Token has expired",
    "missing_claims": "Fields `role` and `exp` are required in JWT",
}


def _no_read(sub_topic: str) -> str:
    return f"You do not have permissions to read from this Channel topic: {sub_topic}"


def _join_error(error: TokenError) -> str:
    code = {"malformed": "MalformedJWT", "signature": "JwtSignatureError"}.get(
        error.problem, "InvalidJWTToken"
    )
    return f"{code}: {error.detail}"


async def _deny(socket: WebSocket[Any, Any, Any], status: int, message: str) -> None:
    """Refuse the handshake with an HTTP response (the ASGI websocket denial extension uvicorn supports)."""
    body = json.dumps({"error": message}).encode()
    if "websocket.http.response" in (socket.scope.get("extensions") or {}):
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await socket.send({"type": "websocket.http.response.start", "status": status, "headers": headers})
        await socket.send({"type": "websocket.http.response.body", "body": body, "more_body": False})
    else:
        await socket.close(code=1008, reason=message)


class _Session:
    """One accepted socket: reads frames, answers them, keeps its joins in the hub."""

    def __init__(self, fake: FakeSupabase, conn: Connection) -> None:
        self.fake = fake
        self.conn = conn

    async def run(self) -> None:
        while True:
            try:
                async with asyncio.timeout(self.fake.idle_timeout_s):
                    message = await self.conn.socket.receive()
            except TimeoutError:
                with contextlib.suppress(Exception):
                    await self.conn.socket.close(code=1000, reason="idle timeout")
                return
            if message["type"] != "websocket.receive":
                return
            try:
                if (data := message.get("bytes")) is not None:
                    if self.conn.vsn != "2.0.0":
                        raise FrameError("binary frames need vsn 2.0.0")
                    await self.on_binary(data)
                else:
                    await self.on_frame(decode_text(self.conn.vsn, message.get("text") or ""))
            except FrameError as error:
                logger.info("MalformedWebSocketMessage: %s", error)

    async def on_frame(self, frame: Frame) -> None:
        conn = self.conn
        if frame.topic == "phoenix" and frame.event == "heartbeat":
            self.fake.stats.heartbeats += 1
            await conn.send_frame(
                reply(Frame(topic="phoenix", event="heartbeat", payload={}, ref=frame.ref), "ok", {})
            )
            return
        join = conn.channels.get(frame.topic)
        if frame.event == "phx_join":
            await self.join(frame)
        elif frame.event == "phx_leave":
            await conn.send_frame(reply(frame, "ok", {}))
            if join is not None:
                del conn.channels[frame.topic]
                await self.send_close(join)
        elif join is None:
            unmatched = reply(frame, "error", {"reason": "unmatched topic"})
            unmatched.join_ref = None
            await conn.send_frame(unmatched)
        elif frame.event == "broadcast":
            await self.client_broadcast(join, frame)
        elif frame.event == "presence":
            await conn.send_frame(reply(frame, "ok", {}))
        elif frame.event == "access_token":
            await self.refresh_token(join, frame.payload.get("access_token"))
        else:
            logger.info("Unexpected message from client of type `%s`", frame.event)

    async def on_binary(self, data: bytes) -> None:
        push = decode_binary(data)
        join = self.conn.channels.get(push.topic)
        request = Frame(topic=push.topic, event="broadcast", payload={}, ref=push.ref, join_ref=push.join_ref)
        if join is None:
            unmatched = reply(request, "error", {"reason": "unmatched topic"})
            unmatched.join_ref = None
            await self.conn.send_frame(unmatched)
            return
        if join.private and not self.fake.may_use_private(join.sub_topic, join.claims):
            return
        self.fake.stats.client_broadcasts.append(
            {
                "topic": join.sub_topic,
                "event": push.user_event,
                "private": join.private,
                "encoding": push.encoding,
                "payload": json.loads(push.payload) if push.encoding == "json" else push.payload.hex(),
            }
        )
        sender = None if join.self_broadcast else (self.conn, join.topic)
        await self.fake.hub.broadcast_user(
            join.sub_topic, join.private, push.user_event, push.encoding, push.payload, sender=sender
        )
        if join.ack_broadcast:
            await self.conn.send_frame(reply(request, "ok", {}))

    async def client_broadcast(self, join: ChannelJoin, frame: Frame) -> None:
        if join.private and not self.fake.may_use_private(join.sub_topic, join.claims):
            return
        self.fake.stats.client_broadcasts.append(
            {
                "topic": join.sub_topic,
                "event": frame.payload.get("event"),
                "private": join.private,
                "encoding": "json",
                "payload": frame.payload.get("payload"),
            }
        )
        sender = None if join.self_broadcast else (self.conn, join.topic)
        await self.fake.hub.broadcast_json(join.sub_topic, join.private, frame.payload, sender=sender)
        if join.ack_broadcast:
            await self.conn.send_frame(reply(frame, "ok", {}))

    async def join(self, frame: Frame) -> None:
        conn, stats = self.conn, self.fake.stats
        config = frame.payload.get("config") if isinstance(frame.payload.get("config"), dict) else {}
        assert isinstance(config, dict)
        private = config.get("private") is True
        record: dict[str, Any] = {"topic": frame.topic, "private": private, "vsn": conn.vsn}
        stats.joins.append(record)
        if not frame.topic.startswith("realtime:"):
            record["status"] = "error"
            unmatched = reply(frame, "error", {"reason": "unmatched topic"})
            unmatched.join_ref = None
            await conn.send_frame(unmatched)
            return
        if (previous := conn.channels.pop(frame.topic, None)) is not None:
            await self.send_close(previous)
        sub_topic = frame.topic.removeprefix("realtime:")
        token = frame.payload.get("access_token") or frame.payload.get("user_token") or conn.tenant_token
        if not isinstance(token, str) or token.startswith("sb_"):
            token = conn.tenant_token
        reason: str | None = None
        claims: dict[str, Any] = {}
        if not sub_topic:
            reason = "TopicNameRequired: You must provide a topic name"
        else:
            try:
                claims = verify_token(token, self.fake.jwt_secret, require_role_and_exp=True)
            except TokenError as error:
                reason = _join_error(error)
            else:
                if private and not self.fake.may_use_private(sub_topic, claims):
                    reason = f"Unauthorized: {_no_read(sub_topic)}"
        record["status"] = "error" if reason else "ok"
        if reason is not None:
            record["reason"] = reason
            await conn.send_frame(reply(frame, "error", {"reason": reason}))
            return
        broadcast = config.get("broadcast") if isinstance(config.get("broadcast"), dict) else {}
        presence = config.get("presence") if isinstance(config.get("presence"), dict) else {}
        assert isinstance(broadcast, dict) and isinstance(presence, dict)
        join = ChannelJoin(
            topic=frame.topic,
            join_ref=frame.join_ref,
            private=private,
            self_broadcast=broadcast.get("self") is True,
            ack_broadcast=broadcast.get("ack") is True,
            presence_enabled=presence.get("enabled") is True,
            access_token=token,
            claims=claims,
        )
        conn.channels[frame.topic] = join
        bindings = config.get("postgres_changes")
        changes = [
            {**b, "id": zlib.crc32(json.dumps(b, sort_keys=True).encode())}
            for b in (bindings if isinstance(bindings, list) else [])
            if isinstance(b, dict)
        ]
        await conn.send_frame(reply(frame, "ok", {"postgres_changes": changes}))
        if join.presence_enabled:
            await conn.send_frame(
                Frame(topic=frame.topic, event="presence_state", payload={}, join_ref=join.join_ref)
            )
        if changes:
            await self.system(join, "postgres_changes", "ok", "Subscribed to PostgreSQL")

    async def refresh_token(self, join: ChannelJoin, token: Any) -> None:
        if not isinstance(token, str) or token.startswith("sb_") or token == join.access_token:
            return
        try:
            claims = verify_token(token, self.fake.jwt_secret, require_role_and_exp=True)
        except TokenError as error:
            await self.shutdown(join, error.detail)
            return
        if join.private and not self.fake.may_use_private(join.sub_topic, claims):
            await self.shutdown(join, _no_read(join.sub_topic))
            return
        join.access_token, join.claims = token, claims

    async def shutdown(self, join: ChannelJoin, message: str) -> None:
        await self.system(join, "system", "error", message)
        self.conn.channels.pop(join.topic, None)
        await self.send_close(join)

    async def system(self, join: ChannelJoin, extension: str, status: str, message: str) -> None:
        payload = {"extension": extension, "status": status, "message": message, "channel": join.sub_topic}
        await self.conn.send_frame(
            Frame(topic=join.topic, event="system", payload=payload, join_ref=join.join_ref)
        )

    async def send_close(self, join: ChannelJoin) -> None:
        await self.conn.send_frame(
            Frame(topic=join.topic, event="phx_close", payload={}, ref=join.join_ref, join_ref=join.join_ref)
        )


def make_realtime_ws_handler(fake: FakeSupabase) -> WebsocketRouteHandler:
    @websocket("/realtime/v1/websocket")
    async def realtime_socket(socket: WebSocket[Any, Any, Any]) -> None:
        await socket.receive()  # websocket.connect
        fake.stats.requests["realtime_ws"] += 1
        fault = fake.faults.take("realtime_ws", socket.scope["path"])
        if fault is not None:
            fake.stats.faults_triggered["realtime_ws"] += 1
            if fault.delay_s:
                await asyncio.sleep(fault.delay_s)
            if fault.down:
                fake.stats.ws_rejected += 1
                await socket.close(code=1011)  # before accept: the server refuses the upgrade (HTTP 403)
                return
            if fault.status is not None:
                fake.stats.ws_rejected += 1
                await _deny(socket, fault.status, "Injected fault")
                return
        vsn = negotiate(socket.query_params.get("vsn") or "1.0.0")
        apikey = socket.headers.get("x-api-key") or socket.query_params.get("apikey")
        problem: tuple[int, str] | None = None
        if vsn is None:
            problem = (403, "Unsupported serializer version")
        elif not apikey:
            problem = (401, "API key is missing")
        else:
            try:
                verify_token(apikey, fake.jwt_secret, require_role_and_exp=True)
            except TokenError as error:
                problem = (401, _CONNECT_ERRORS[error.problem])
        if problem is not None or vsn is None or apikey is None:
            fake.stats.ws_rejected += 1
            status, message = problem or (500, "Error connecting to Realtime")
            await _deny(socket, status, message)
            return
        # Litestar's accept() only sends the accept event before the connect event was read; we read it above.
        await socket.send({"type": "websocket.accept", "subprotocol": None, "headers": []})
        conn = Connection(socket=socket, vsn=vsn, tenant_token=apikey)
        fake.hub.connections.add(conn)
        fake.stats.ws_connections += 1
        try:
            await _Session(fake, conn).run()
        finally:
            conn.closed = True
            fake.hub.connections.discard(conn)

    return realtime_socket
