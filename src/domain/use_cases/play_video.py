"""The play_video tool: find the demo, then the video by its title, get a URL for it and send it to the
demo's channel. Every miss is an error the agent can act on (suggestions for a title it got wrong)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from demo_relay.domain.errors import UnknownConversation, UnknownDemo, VideoNotFound
from demo_relay.domain.models import ChannelEvent, EventName, Played, ToolCall, channel_for, current_window_s
from demo_relay.domain.ports import (
    Clock,
    ConversationDirectory,
    DemoCatalog,
    Notifier,
    PlayHistory,
    VideoUrls,
)
from demo_relay.domain.use_cases.deliveries import Delivery, hinted_demo
from demo_relay.domain.use_cases.parse import video_title


@dataclass
class PlayVideo:
    catalog: DemoCatalog
    conversations: ConversationDirectory
    urls: VideoUrls
    notifier: Notifier
    clock: Clock
    history: PlayHistory | None = None  # the owner's "what played"; None: not kept

    async def execute(self, call: ToolCall, delivery: Delivery) -> Played:
        title = video_title(call.arguments)
        demo_id = await self._demo_of(call, delivery)
        match = await self.catalog.find_video(demo_id, title)
        if match.video is None:
            raise VideoNotFound(title, match.suggestions)
        video = match.video
        url = await self.urls.url_for(video)
        channel = channel_for(demo_id)
        payload: dict[str, Any] = {
            "url": url.url,
            "title": video.title,
            "video_id": video.id,
            "demo_id": demo_id,
            "conversation_id": call.conversation_id,
            "tool_call_id": call.tool_call_id,
            "expires_at": url.expires_at.isoformat() if url.expires_at else None,
        }
        sent_at = self.clock.now()
        delivered = await self.notifier.publish(
            ChannelEvent(
                channel=channel,
                event=EventName.PLAY_VIDEO,
                payload=payload,
                id=delivery.event_id,
                sent_at=sent_at,
                current_for_s=current_window_s(video.duration_s),
            )
        )
        if self.history is not None:
            # After the publish: only what reached the channel is history. If this write fails the
            # delivery fails and Tavus retries; the page drops the repeat by its event id.
            await self.history.record(delivery.event_id, demo_id, call.conversation_id, video, sent_at)
        return Played(
            demo_id=demo_id,
            channel=channel,
            video=video,
            url=url,
            delivered_via=delivered,
            output=f'Now playing "{video.title}" for the viewer.',
        )

    async def _demo_of(self, call: ToolCall, delivery: Delivery) -> str:
        """The session's demo for a bridged call; else the conversation's; else the URL's ?demo_id=."""
        if delivery.bound_demo_id is not None:
            return delivery.bound_demo_id
        if call.conversation_id:
            demo_id = await self.conversations.demo_for(call.conversation_id)
            if demo_id is not None:
                return demo_id
        if delivery.demo_hint:
            demo_id = await hinted_demo(self.catalog, delivery)
            if demo_id is None:
                raise UnknownDemo("no demo with that demo_id", demo_id=delivery.demo_hint)
            return demo_id
        raise UnknownConversation(
            "the conversation is not registered with a demo (POST /api/demos/{id}/sessions) "
            "and the webhook URL names no demo_id",
            conversation_id=call.conversation_id,
        )
