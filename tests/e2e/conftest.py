"""The e2e tests need the same Postgres fixtures as the integration tests."""

from tests.integration.conftest import database_url, db_pool, empty_database_url, postgres_server

__all__ = ["database_url", "db_pool", "empty_database_url", "postgres_server"]
