"""One SQL store (SQLAlchemy Core) for SQLite and PostgreSQL; rows <-> domain objects."""

from azmi.store.sql import Store

__all__ = ["Store"]
