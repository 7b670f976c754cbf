"""The server's connection to a Supabase project: one httpx client (one connection pool) shared by the
`supabase` package's async client (Storage) and the Realtime REST broadcasts, authenticated with the
service role key. Created on first use inside the app's event loop, closed in the app's lifespan."""

from __future__ import annotations

import httpx
from storage3 import AsyncStorageClient
from supabase import AsyncClient, AsyncClientOptions

DEFAULT_TIMEOUT_S = 5.0


class SupabaseConnection:
    def __init__(self, url: str, service_key: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.url = url.rstrip("/")
        self.http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s),
            limits=httpx.Limits(max_connections=50, max_keepalive_connections=10),
        )
        options = AsyncClientOptions(
            httpx_client=self.http,
            # A server holds no user session: nothing to persist or refresh.
            auto_refresh_token=False,
            persist_session=False,
        )
        self.client = AsyncClient(self.url, service_key, options)

    @property
    def storage(self) -> AsyncStorageClient:
        return self.client.storage

    async def aclose(self) -> None:
        await self.http.aclose()
