"""`python -m demo_relay.testing.fake_supabase --host H --port P [--bucket NAME[:public]]...
[--private-policy authenticated|claim:NAME]`"""

from __future__ import annotations

import argparse

from .app import serve
from .fake import BucketSpec, PrivatePolicy


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="fake-supabase", description="Local protocol-faithful Supabase.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=54321)
    parser.add_argument("--jwt-secret", default=None)
    parser.add_argument("--anon-key", default=None)
    parser.add_argument("--service-key", default=None)
    parser.add_argument("--bucket", action="append", default=[], help="NAME or NAME:public (repeatable)")
    parser.add_argument(
        "--private-policy",
        type=PrivatePolicy.parse,
        default=PrivatePolicy(),
        help="who may use private channels: 'authenticated' (default) or 'claim:NAME' (the topic its JWT's "
        "claim NAME names)",
    )
    parser.add_argument("--idle-timeout", type=float, default=60.0, help="WebSocket idle timeout, seconds")
    args = parser.parse_args(argv)
    serve(
        args.host,
        args.port,
        service_key=args.service_key,
        anon_key=args.anon_key,
        jwt_secret=args.jwt_secret,
        buckets=[BucketSpec.parse(b) for b in args.bucket],
        authorize=args.private_policy,
        idle_timeout_s=args.idle_timeout,
    )


if __name__ == "__main__":
    main()
