"""POST /api/tavus-webhook and the page's tool-call bridge: raw bytes in, use case, outcome out."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, post
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, SkipValidation
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED

from demo_relay.domain.errors import Unauthorized
from demo_relay.domain.models import Duplicate, Ignored, InboundRequest, Played, Recorded, WebhookOutcome
from demo_relay.domain.ports import ChannelTokens
from demo_relay.domain.use_cases.forward_tool_call import ForwardToolCall
from demo_relay.domain.use_cases.handle_webhook import HandleWebhook
from demo_relay.domain.use_cases.sessions import authorize_channel
from demo_relay.entrypoints.http.auth import bearer_token
from demo_relay.entrypoints.http.metrics import METRICS_STATE, Metrics
from demo_relay.entrypoints.http.openapi import SESSION, TAVUS, errors
from demo_relay.entrypoints.http.schemas import PlayedOut, PlayedVideo, StatusOut

# Valid JSON that is not for us (another event, another tool) is acknowledged, not refused.
IGNORED = {
    HTTP_202_ACCEPTED: ResponseSpec(
        data_container=StatusOut, description="not a delivery this service handles", generate_examples=False
    )
}


@post(
    "/api/tavus-webhook",
    status_code=HTTP_200_OK,
    summary="Tavus tool calls and lifecycle events (signed, or the URL token)",
    responses={**errors(400, 401, 404, 413, 422, 502, 503), **IGNORED},
    security=TAVUS,
)
async def tavus_webhook(
    request: Request[Any, Any, Any], handle_webhook: NamedDependency[HandleWebhook]
) -> Response[Any]:
    # One dependency, not two: Litestar resolves several in an anyio task group per request (a measurable
    # share of the hot path, bench/throughput.py); the metrics come from the app's state.
    metrics: Metrics = request.app.state[METRICS_STATE]
    # Signatures cover the exact bytes received: never re-serialise parsed JSON.
    body = await request.body()
    inbound = InboundRequest(
        body=body,
        headers={k.lower(): v for k, v in request.headers.items()},
        query={k: v for k, v in request.query_params.items()},
    )
    with metrics.track_webhook() as track:
        outcome = await handle_webhook.execute(inbound)
        track(outcome_name(outcome))
    return to_response(outcome)


@post(
    "/api/sessions/{channel:str}/tool-calls",
    status_code=HTTP_200_OK,
    summary="A Tavus tool call the page received as a Daily app-message, forwarded with its session token",
    responses={**errors(400, 401, 403, 404, 413, 422, 429, 502, 503), **IGNORED},
    security=SESSION,
)
async def session_tool_call(
    channel: FromPath[str],
    request: Request[Any, Any, Any],
    forward_tool_call: NamedDependency[ForwardToolCall],
    # Litestar validates dependencies with isinstance, which a (non-runtime-checkable) Protocol refuses.
    tokens: NamedDependency[SkipValidation[ChannelTokens]],
    metrics: NamedDependency[Metrics],
) -> Response[Any]:
    token = bearer_token(request)
    if token is None:  # no credentials: 401; credentials that are not valid here: 403
        raise Unauthorized("an Authorization: Bearer <session token> header is required")
    access = authorize_channel(tokens, token, channel)
    with metrics.track_webhook() as track:
        outcome = await forward_tool_call.execute(await request.body(), access)
        track(outcome_name(outcome))
    return to_response(outcome)


def to_response(outcome: WebhookOutcome) -> Response[Any]:
    match outcome:
        case Played():
            return Response(
                PlayedOut(
                    status="played",
                    demo_id=outcome.demo_id,
                    channel=outcome.channel,
                    video=PlayedVideo(id=outcome.video.id, title=outcome.video.title, url=outcome.url.url),
                    delivered_via=list(outcome.delivered_via),
                    output=outcome.output,
                )
            )
        case Duplicate():
            return Response(StatusOut("duplicate"))
        case Recorded():
            return Response(StatusOut("recorded"))
        case Ignored():
            return Response(StatusOut("ignored"), status_code=HTTP_202_ACCEPTED)


def outcome_name(outcome: WebhookOutcome) -> str:
    return type(outcome).__name__.lower()
