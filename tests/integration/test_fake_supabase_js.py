"""The fake Supabase Realtime, checked by the browser's client: @supabase/supabase-js 2.119 under Node 20
(tests/node/supabase_listen.mjs, `ws` as transport). Default serializer vsn 2.0.0 (array frames, binary
broadcast pushes), forced vsn 1.0.0, private channels with `realtime.setAuth(jwt)`, heartbeats keeping the
socket past the server's idle timeout. Fails, never skips, without node or frontend/node_modules."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.support.supabase import RunningFakeSupabase, node_listener, running_fake_supabase

PAYLOAD = {"video_id": "v-7", "title": "Pricing", "url": "https://cdn.example/pricing.mp4"}
SUPABASE_JS_MESSAGE = {"type": "broadcast", "event": "play_video", "payload": PAYLOAD}


@pytest.fixture
async def supabase_fake() -> AsyncIterator[RunningFakeSupabase]:
    async with running_fake_supabase() as running:
        yield running


async def rest_broadcast(running: RunningFakeSupabase, *, private: bool) -> None:
    message = {"topic": "demo-x", "event": "play_video", "payload": PAYLOAD, "private": private}
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{running.url}/realtime/v1/api/broadcast",
            headers=running.service_headers,
            json={"messages": [message]},
        )
    assert response.status_code == 202


async def test_supabase_js_default_vsn_receives_a_rest_broadcast(supabase_fake: RunningFakeSupabase) -> None:
    async with node_listener(supabase_fake.url, supabase_fake.anon_key) as listener:
        assert await listener.status() == "SUBSCRIBED"
        assert supabase_fake.fake.stats.joins[-1]["vsn"] == "2.0.0"
        await rest_broadcast(supabase_fake, private=False)
        line = await listener.wait_for("broadcast")
        assert line["message"] == SUPABASE_JS_MESSAGE


async def test_supabase_js_vsn_1_receives_a_rest_broadcast(supabase_fake: RunningFakeSupabase) -> None:
    async with node_listener(supabase_fake.url, supabase_fake.anon_key, "--vsn", "1.0.0") as listener:
        assert await listener.status() == "SUBSCRIBED"
        assert supabase_fake.fake.stats.joins[-1]["vsn"] == "1.0.0"
        await rest_broadcast(supabase_fake, private=False)
        assert (await listener.wait_for("broadcast"))["message"] == SUPABASE_JS_MESSAGE


async def test_supabase_js_private_channel_with_set_auth(supabase_fake: RunningFakeSupabase) -> None:
    token = supabase_fake.fake.access_token(role="authenticated")
    async with (
        node_listener(supabase_fake.url, supabase_fake.anon_key, "--private", "--token", token) as private,
        node_listener(supabase_fake.url, supabase_fake.anon_key) as public,
    ):
        assert await private.status() == "SUBSCRIBED"
        assert await public.status() == "SUBSCRIBED"
        await rest_broadcast(supabase_fake, private=True)
        assert (await private.wait_for("broadcast"))["message"] == SUPABASE_JS_MESSAGE
        await public.no_broadcast_within(0.5)


async def test_supabase_js_private_channel_without_a_user_token_is_refused(
    supabase_fake: RunningFakeSupabase,
) -> None:
    async with node_listener(supabase_fake.url, supabase_fake.anon_key, "--private") as listener:
        line = await listener.wait_for("status")
        assert line["status"] == "CHANNEL_ERROR"
        assert "You do not have permissions to read from this Channel topic: demo-x" in line["error"]


async def test_supabase_js_binary_broadcast_push_reaches_both_serializers(
    supabase_fake: RunningFakeSupabase,
) -> None:
    async with (
        node_listener(supabase_fake.url, supabase_fake.anon_key) as sender,
        node_listener(supabase_fake.url, supabase_fake.anon_key) as v2_peer,
        node_listener(supabase_fake.url, supabase_fake.anon_key, "--vsn", "1.0.0") as v1_peer,
    ):
        for listener in (sender, v2_peer, v1_peer):
            assert await listener.status() == "SUBSCRIBED"
        await sender.command(f'send {"{"}"video_id": "v-9"{"}"}')
        assert (await sender.wait_for("sent"))["result"] == "ok"
        expected = {"type": "broadcast", "event": "play_video", "payload": {"video_id": "v-9"}}
        assert (await v2_peer.wait_for("broadcast"))["message"] == expected  # binary user_broadcast frame
        assert (await v1_peer.wait_for("broadcast"))["message"] == expected  # converted to JSON
        await sender.no_broadcast_within(0.3)  # broadcast.self is false
    assert supabase_fake.fake.stats.client_broadcasts[0]["encoding"] == "json"


async def test_supabase_js_heartbeats_keep_the_socket_past_the_idle_timeout() -> None:
    async with (
        running_fake_supabase(idle_timeout_s=1.0) as running,
        node_listener(running.url, running.anon_key, "--heartbeat-ms", "300") as listener,
    ):
        assert await listener.status() == "SUBSCRIBED"
        await listener.no_broadcast_within(2.5)
        assert running.fake.stats.heartbeats >= 3
        assert running.fake.stats.ws_connections == 1  # never dropped and reconnected
        await rest_broadcast(running, private=False)
        assert (await listener.wait_for("broadcast"))["message"] == SUPABASE_JS_MESSAGE
