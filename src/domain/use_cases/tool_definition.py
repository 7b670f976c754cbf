"""The `play_video` tool a Tavus persona needs, built from a demo's real video titles."""

from __future__ import annotations

from typing import Any

from demo_relay.domain.models import (
    PLAY_VIDEO_TOOL,
    Demo,
    PersonaTool,
    ToolDelivery,
    registry_tool_name,
)

# How the agent uses our answer to a registry tool: it hears our `output` ("Now playing …") and goes on
# talking with it (the registry's default, fire_and_forget, would drop it).
ON_RESOLVE = "generate_response"


def _description(demo: Demo) -> str:
    titles = [video.title for video in demo.videos]
    return (
        f"Play one of the product demo videos of {demo.name!r} to the viewer, in a picture-in-picture "
        "player beside this conversation. Call it when a video would show what you are explaining better "
        "than words. Available videos: " + ("; ".join(titles) if titles else "none yet") + "."
    )


def _parameters(demo: Demo) -> dict[str, Any]:
    """`video_title` is an enum of the demo's titles, so the agent can only name videos that exist."""
    title_schema: dict[str, Any] = {"type": "string", "description": "Exact title of the video to play."}
    titles = [video.title for video in demo.videos]
    if titles:
        title_schema["enum"] = titles
    return {"type": "object", "properties": {"video_title": title_schema}, "required": ["video_title"]}


def persona_tool(demo: Demo, delivery: ToolDelivery, webhook_url: str) -> PersonaTool | None:
    """The tool persona sync keeps on the demo's persona; None for a demo without videos (an empty enum
    is invalid, and an agent offered no video should not try to play one). Delivered through the Tools
    registry to our webhook (`api`) it has a name of its own per demo (registry names are unique per
    account); as an app-message it is the persona's `play_video`."""
    if not demo.videos:
        return None
    if delivery == ToolDelivery.API:
        name = registry_tool_name(demo.id)
        return PersonaTool(name, _description(demo), _parameters(demo), delivery, webhook_url)
    return PersonaTool(PLAY_VIDEO_TOOL, _description(demo), _parameters(demo), delivery)


def tool_definition(demo: Demo, webhook_url: str) -> dict[str, Any]:
    """{"function": OpenAI-style function tool, "tavus_tool": Tavus Tools-registry body}.

    The registry body is what the official SDK's ToolCreate takes once `delivery.api.auth.secret` is
    filled in with the webhook secret (never in this public answer)."""
    description = _description(demo)
    parameters = _parameters(demo)
    return {
        "function": {
            "type": "function",
            "function": {"name": PLAY_VIDEO_TOOL, "description": description, "parameters": parameters},
        },
        "tavus_tool": {
            "name": registry_tool_name(demo.id),
            "description": description,
            "parameters": parameters,
            "delivery": {"api": {"url": webhook_url, "method": "POST", "auth": {"type": "hmac"}}},
            "origin": "llm",
            "on_resolve": ON_RESOLVE,
        },
    }
