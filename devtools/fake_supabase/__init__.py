"""A local, protocol-faithful Supabase (Storage + Realtime) for tests, checked by the official clients
(supabase-py's storage3 and realtime, supabase-js's storage-js and realtime-js).

Start it in-process with `create_fake_supabase(...)` (an ASGI app and its `FakeSupabase` state) or as a
server with `serve(host, port, ...)` / `python -m fake_supabase`. What each part copies
from the real services, and what it leaves out, is in the docstrings of `storage`, `realtime_rest` and
`realtime_ws`; counters are in `stats`, fault injection in `faults`, HTTP control endpoints in `control`."""

from fake_supabase.app import banner, create_fake_supabase, run, serve
from fake_supabase.fake import Authorize, Bucket, BucketSpec, FakeSupabase, PrivatePolicy, StoredObject
from fake_supabase.faults import SERVICES, Fault, Service
from fake_supabase.keys import DEFAULT_JWT_SECRET, TokenError, make_access_token, make_api_key, verify_token
from fake_supabase.stats import FakeStats

__all__ = [
    "DEFAULT_JWT_SECRET",
    "SERVICES",
    "Authorize",
    "Bucket",
    "BucketSpec",
    "FakeStats",
    "FakeSupabase",
    "Fault",
    "PrivatePolicy",
    "Service",
    "StoredObject",
    "TokenError",
    "banner",
    "create_fake_supabase",
    "make_access_token",
    "make_api_key",
    "run",
    "serve",
    "verify_token",
]
