"""These tests run against both backends: a SQLite file and a PostgreSQL database."""

from support.backends import config_on_backend, database_on_backend

__all__ = ["config_on_backend", "database_on_backend"]
