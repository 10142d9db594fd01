"""The migrations build exactly the tables `azmi.store.schema` defines (no drift, no ad-hoc DDL)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from azmi.store.migrate import migrate
from azmi.store.schema import metadata


def test_migrations_produce_the_schema_and_nothing_else() -> None:
    engine = create_engine("sqlite://")
    migrate(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == [], f"schema.py and the migrations differ; add a migration: {diff}"
    assert set(inspect(engine).get_table_names()) == set(metadata.tables) | {"alembic_version"}


def test_migrating_twice_is_a_no_op() -> None:
    engine = create_engine("sqlite://")
    migrate(engine)
    migrate(engine)
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() is not None
