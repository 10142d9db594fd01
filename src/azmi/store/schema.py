"""Tables, defined once for SQLite and PostgreSQL. Keys are lower-cased ARM ids."""

from __future__ import annotations

from sqlalchemy import (Column, Float, ForeignKey, Integer, LargeBinary, MetaData, String, Table, Text,
                        UniqueConstraint)

metadata = MetaData()

SCHEMA_VERSION = 1

meta = Table("meta", metadata, Column("key", String(64), primary_key=True), Column("value", Text, nullable=False))

subscriptions = Table(
    "subscriptions", metadata,
    Column("id", String(36), primary_key=True),
    Column("display_name", String(256), nullable=False),
    Column("tenant_id", String(36), nullable=False),
    Column("alias", String(256), unique=True),
)

resource_groups = Table(
    "resource_groups", metadata,
    Column("key", String(300), primary_key=True),
    Column("subscription", String(36), ForeignKey("subscriptions.id"), nullable=False, index=True),
    Column("name", String(90), nullable=False),
    Column("location", String(64), nullable=False),
    Column("tags", Text, nullable=False, default="{}"),
)

principals = Table(
    "principals", metadata,
    Column("object_id", String(36), primary_key=True),
    Column("client_id", String(36), nullable=False, unique=True),
    Column("display_name", String(300), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("mi_resource_id", String(2048)),
    Column("created_at", Float, nullable=False),
)

resources = Table(
    "resources", metadata,
    Column("key", String(2048), primary_key=True),
    Column("subscription", String(36), nullable=False, index=True),
    Column("group_key", String(300), ForeignKey("resource_groups.key"), nullable=False, index=True),
    Column("namespace", String(128), nullable=False),
    Column("type", String(128), nullable=False),
    Column("type_key", String(256), nullable=False, index=True),
    Column("name", String(260), nullable=False),
    Column("resource_group", String(90), nullable=False),
    Column("kind", String(64)),
    Column("location", String(64), nullable=False),
    Column("tags", Text, nullable=False, default="{}"),
    Column("properties", Text, nullable=False, default="{}"),
    Column("principal_id", String(36), ForeignKey("principals.object_id"), unique=True),
    Column("binding_key", String(128), nullable=False, unique=True),
    Column("identity_header", String(128), nullable=False, unique=True),
    Column("created_at", Float, nullable=False),
    Column("clock_skew", Integer, nullable=False, default=0),  # fault control: this machine's clock is off
)

resource_identities = Table(
    "resource_identities", metadata,
    Column("resource_key", String(2048), ForeignKey("resources.key", ondelete="CASCADE"), primary_key=True),
    Column("uami_key", String(2048), ForeignKey("resources.key", ondelete="CASCADE"), primary_key=True,
           index=True),
    Column("position", Integer, nullable=False),
    UniqueConstraint("resource_key", "position"),
)

signing_keys = Table(
    "signing_keys", metadata,
    Column("kid", String(64), primary_key=True),
    Column("private_pem", LargeBinary, nullable=False),
    Column("cert_der", LargeBinary, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("retired_at", Float),
)

role_definitions = Table(  # custom roles; built-in roles live in azmi.domain.roles
    "role_definitions", metadata,
    Column("id", String(36), primary_key=True),
    Column("scope", String(2048), nullable=False),
    Column("role_name", String(512), nullable=False, unique=True),
    Column("description", Text, nullable=False, default=""),
    Column("permissions", Text, nullable=False),
    Column("assignable_scopes", Text, nullable=False),
)

role_assignments = Table(
    "role_assignments", metadata,
    Column("name", String(36), primary_key=True),
    Column("scope", String(2048), nullable=False),
    Column("scope_key", String(2048), nullable=False, index=True),
    Column("subscription", String(36)),
    Column("role_definition_id", String(36), nullable=False),
    Column("principal_id", String(36), nullable=False, index=True),
    Column("principal_type", String(32), nullable=False),
    Column("description", Text),
    Column("created_on", Float, nullable=False),
    Column("created_by", String(36)),
    Column("effective_at", Float, nullable=False, default=0.0),
    UniqueConstraint("scope_key", "role_definition_id", "principal_id"),
)

revoked_assignments = Table(  # deleted assignments still in force until removed_at (propagation delay)
    "revoked_assignments", metadata,
    Column("name", String(36), primary_key=True),
    Column("scope", String(2048), nullable=False),
    Column("role_definition_id", String(36), nullable=False),
    Column("principal_id", String(36), nullable=False, index=True),
    Column("principal_type", String(32), nullable=False),
    Column("created_on", Float, nullable=False),
    Column("removed_at", Float, nullable=False),
)

vault_ports = Table(  # each vault is its own HTTPS origin (the SDK parses ids by origin)
    "vault_ports", metadata,
    Column("resource_key", String(2048), ForeignKey("resources.key", ondelete="CASCADE"), primary_key=True),
    Column("port", Integer, nullable=False, unique=True),
)

secret_names = Table(
    "secret_names", metadata,
    Column("vault_key", String(2048), nullable=False, primary_key=True),
    Column("name_key", String(127), nullable=False, primary_key=True),
    Column("name", String(127), nullable=False),
    Column("deleted_at", Float),
    Column("scheduled_purge", Float),
)

secret_versions = Table(
    "secret_versions", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("vault_key", String(2048), nullable=False, index=True),
    Column("name_key", String(127), nullable=False),
    Column("version", String(32), nullable=False),
    Column("value", Text, nullable=False),
    Column("content_type", String(255)),
    Column("tags", Text, nullable=False, default="{}"),
    Column("enabled", Integer, nullable=False, default=1),
    Column("nbf", Integer),
    Column("exp", Integer),
    Column("created", Integer, nullable=False),
    Column("updated", Integer, nullable=False),
    UniqueConstraint("vault_key", "name_key", "version"),
)

storage_accounts = Table(  # account keys and the account's directory under <data dir>/blobs
    "storage_accounts", metadata,
    Column("resource_key", String(2048), ForeignKey("resources.key", ondelete="CASCADE"), primary_key=True),
    Column("name", String(24), nullable=False, unique=True),
    Column("uid", String(32), nullable=False, unique=True),
    Column("key1", String(128), nullable=False),
    Column("key2", String(128), nullable=False),
    Column("key1_created", Float, nullable=False),
    Column("key2_created", Float, nullable=False),
)

blob_containers = Table(
    "blob_containers", metadata,
    Column("account", String(24), primary_key=True),
    Column("name", String(63), primary_key=True),
    Column("etag", String(64), nullable=False),
    Column("modified", Float, nullable=False),
    Column("metadata", Text, nullable=False, default="{}"),
)

blobs = Table(
    "blobs", metadata,
    Column("account", String(24), primary_key=True),
    Column("container", String(63), primary_key=True),
    Column("name", String(1024), primary_key=True),
    Column("size", Integer, nullable=False),
    Column("etag", String(64), nullable=False),
    Column("created", Float, nullable=False),
    Column("modified", Float, nullable=False),
    Column("properties", Text, nullable=False, default="{}"),  # content headers, metadata, committed blocks
    Column("file", String(64), nullable=False),
)

blob_blocks = Table(  # uncommitted blocks, staged by Put Block until Put Block List commits them
    "blob_blocks", metadata,
    Column("account", String(24), primary_key=True),
    Column("container", String(63), primary_key=True),
    Column("blob", String(1024), primary_key=True),
    Column("block_id", String(128), primary_key=True),
    Column("size", Integer, nullable=False),
    Column("file", String(64), nullable=False),
    Column("created", Float, nullable=False),
)
