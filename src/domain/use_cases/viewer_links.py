"""Viewer links (owners only): a URL of the demo's page that lets its holder watch one conversation, and
nothing else, until it expires. The page hands its grant to the sessions endpoint."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from demo_relay.domain.errors import InvalidRequest, UnknownDemo
from demo_relay.domain.models import ViewerLink
from demo_relay.domain.ports import DemoCatalog, ViewerGrants
from demo_relay.domain.use_cases.sessions import checked_conversation

DEFAULT_TTL_S = 24 * 3600
MIN_TTL_S = 60
MAX_TTL_S = 30 * 24 * 3600


@dataclass
class MintViewerLink:
    catalog: DemoCatalog
    grants: ViewerGrants
    page_base_url: str  # PUBLIC_BASE_URL
    conversation_url_hosts: Sequence[str] = ("*.daily.co",)

    async def execute(
        self,
        demo_id: str,
        conversation_id: str,
        conversation_url: str | None = None,
        ttl_s: int | None = None,
    ) -> ViewerLink:
        conversation_id = checked_conversation(conversation_id, conversation_url, self.conversation_url_hosts)
        ttl = DEFAULT_TTL_S if ttl_s is None else ttl_s
        if not MIN_TTL_S <= ttl <= MAX_TTL_S:
            raise InvalidRequest(f"ttl_s must be between {MIN_TTL_S} and {MAX_TTL_S} seconds", field="ttl_s")
        demo = await self.catalog.get_demo(demo_id)
        if demo is None:
            raise UnknownDemo("no demo with that id", demo_id=demo_id)
        grant, expires_at = self.grants.issue(demo.id, conversation_id, ttl)
        query = {"conversation_id": conversation_id}
        if conversation_url:
            query["conversation_url"] = conversation_url
        url = f"{self.page_base_url}/demos/{demo.id}?{urlencode({**query, 'grant': grant})}"
        return ViewerLink(url=url, grant=grant, expires_at=expires_at)
