"""The one command-line front end of the fake: `fake-supabase`, `python -m fake_supabase` and
`demo-relay fake-supabase` all run this click command."""

from __future__ import annotations

import click

from fake_supabase.app import serve
from fake_supabase.fake import BucketSpec, PrivatePolicy


def _buckets(_: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[BucketSpec]:
    try:
        return [BucketSpec.parse(value) for value in values]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param=param) from None


def _policy(_: click.Context, param: click.Parameter, value: str) -> PrivatePolicy:
    try:
        return PrivatePolicy.parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param=param) from None


@click.command("fake-supabase")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=54321, show_default=True, type=int)
@click.option(
    "--bucket",
    "buckets",
    multiple=True,
    default=("demo-videos",),
    show_default=True,
    callback=_buckets,
    help="NAME or NAME:public; repeatable.",
)
@click.option(
    "--jwt-secret", default=None, help="Project JWT secret (default: the Supabase CLI's local one)."
)
@click.option("--anon-key", default=None, help="Anon key (default: a JWT minted from the JWT secret).")
@click.option("--service-key", default=None, help="service_role key (default: minted too).")
@click.option(
    "--private-policy",
    default="authenticated",
    show_default=True,
    callback=_policy,
    help="Who may join and broadcast on private channels (the stand-in for RLS on realtime.messages): "
    "'authenticated' = any user JWT; 'claim:NAME' = only the topic the JWT's claim NAME names "
    "(claim:demo_relay_topic is demo-relay's migration). service_role always may.",
)
@click.option(
    "--idle-timeout", default=60.0, show_default=True, type=float, help="WebSocket idle timeout (s)."
)
@click.option(
    "--user",
    "users",
    multiple=True,
    metavar="EMAIL:PASSWORD",
    help="An Auth user who can sign in with email and password (repeatable).",
)
@click.option(
    "--asymmetric-keys",
    is_flag=True,
    help="Sign user tokens with an ES256 key published in the JWKS (else HS256 with the JWT secret).",
)
def command(
    host: str,
    port: int,
    buckets: list[BucketSpec],
    jwt_secret: str | None,
    anon_key: str | None,
    service_key: str | None,
    private_policy: PrivatePolicy,
    idle_timeout: float,
    users: tuple[str, ...],
    asymmetric_keys: bool,
) -> None:
    """Run the local protocol-faithful Supabase (Storage + Realtime) the tests use, for local trials.

    It prints SUPABASE_URL and the anon / service_role keys to start `demo-relay serve` against."""
    serve(
        host,
        port,
        service_key=service_key,
        anon_key=anon_key,
        jwt_secret=jwt_secret,
        buckets=buckets,
        authorize=private_policy,
        idle_timeout_s=idle_timeout,
        users=[tuple(u.split(":", 1)) for u in users if ":" in u],
        asymmetric_keys=asymmetric_keys,
    )
