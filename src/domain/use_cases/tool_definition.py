"""The `play_video` tool a Tavus persona needs, built from a demo's real video titles."""

from __future__ import annotations

from typing import Any

from demo_relay.domain.models import PLAY_VIDEO_TOOL, Demo


def tool_definition(demo: Demo, webhook_url: str) -> dict[str, Any]:
    """{"function": OpenAI-style function tool, "tavus_tool": Tavus Tools-registry body}.

    `video_title` is an enum of the demo's titles, so the agent can only name videos that exist."""
    titles = [video.title for video in demo.videos]
    description = (
        f"Play one of the product demo videos of {demo.name!r} to the viewer, in a picture-in-picture "
        "player beside this conversation. Call it when a video would show what you are explaining better "
        "than words. Available videos: " + ("; ".join(titles) if titles else "none yet") + "."
    )
    title_schema: dict[str, Any] = {
        "type": "string",
        "description": "Exact title of the video to play.",
    }
    if titles:
        title_schema["enum"] = titles
    parameters = {
        "type": "object",
        "properties": {"video_title": title_schema},
        "required": ["video_title"],
    }
    return {
        "function": {
            "type": "function",
            "function": {"name": PLAY_VIDEO_TOOL, "description": description, "parameters": parameters},
        },
        "tavus_tool": {
            "name": PLAY_VIDEO_TOOL,
            "description": description,
            "parameters": parameters,
            "delivery": {"api": {"url": webhook_url, "method": "POST", "auth": {"type": "hmac"}}},
        },
    }
