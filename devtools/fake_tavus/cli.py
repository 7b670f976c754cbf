"""The one command-line front end of the fake: `fake-tavus`, `python -m fake_tavus` and
`demo-relay fake-tavus` all run this click command."""

from __future__ import annotations

import click

from fake_tavus.app import serve
from fake_tavus.fake import DEFAULT_API_KEY, DEFAULT_MAX_CONCURRENT, PERSONA_ENVELOPES, PersonaSeed


def _personas(_: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[PersonaSeed]:
    try:
        return [PersonaSeed.parse(value) for value in values]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param=param) from None


@click.command("fake-tavus")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=7420, show_default=True, type=int)
@click.option(
    "--api-key", default=DEFAULT_API_KEY, show_default=True, help="The x-api-key every /v2 request must send."
)
@click.option(
    "--max-concurrent",
    default=DEFAULT_MAX_CONCURRENT,
    show_default=True,
    type=click.IntRange(min=0),
    help="Active conversations the account may have at once (Tavus answers 400 beyond).",
)
@click.option(
    "--persona",
    "personas",
    multiple=True,
    metavar="ID[:REPLICA]",
    callback=_personas,
    help="A persona that exists from the start, with its default replica (repeatable).",
)
@click.option(
    "--persona-envelope",
    type=click.Choice(PERSONA_ENVELOPES),
    default="bare",
    show_default=True,
    help="GET /v2/personas/{id} answers a bare object, or {'data': [object]} as the docs show.",
)
def command(
    host: str,
    port: int,
    api_key: str,
    max_concurrent: int,
    personas: list[PersonaSeed],
    persona_envelope: str,
) -> None:
    """Run the local protocol-faithful Tavus API (development tool), for local trials of demo-relay.

    It prints the base URL and API key to point TAVUS_API_URL / TAVUS_API_KEY (or the official SDK's
    TAVUS_PUBLIC_API_BASE_URL) at, and the control endpoints that play the agent's part."""
    serve(
        host,
        port,
        api_key=api_key,
        max_concurrent=max_concurrent,
        personas=personas,
        persona_envelope="data" if persona_envelope == "data" else "bare",
    )
