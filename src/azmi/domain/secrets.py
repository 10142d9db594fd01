"""Key Vault secrets: records and the validation rules of the secrets REST API (azure-wire.md §6.4)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from azmi.errors import InvalidInput

NAME = re.compile(r"^[0-9a-zA-Z-]{1,127}$")
VERSION = re.compile(r"^[0-9a-f]{32}$")
MAX_VALUE_CHARS = 25 * 1024
MAX_TAGS = 15
RETENTION_DAYS = 90


@dataclass(frozen=True)
class SecretName:
    name: str
    deleted_at: float | None = None
    scheduled_purge: float | None = None


@dataclass(frozen=True)
class SecretVersion:
    version: str
    value: str
    content_type: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    enabled: bool = True
    nbf: int | None = None
    exp: int | None = None
    created: int = 0
    updated: int = 0


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise InvalidInput(f"The request URI contains an invalid name: {name}", code="BadParameter")
    return name


def check_version(version: str) -> str:
    if not VERSION.match(version):
        raise InvalidInput(f"The request URI contains an invalid version: {version}", code="BadParameter")
    return version


def check_tags(tags: Any) -> dict[str, str]:
    if tags is None:
        return {}
    if not isinstance(tags, dict) or len(tags) > MAX_TAGS or not all(
            isinstance(k, str) and isinstance(v, str) and 0 < len(k) <= 512 and len(v) <= 256 for k, v in tags.items()):
        raise InvalidInput("Tags must be at most 15 string pairs (names up to 512, values up to 256 characters).",
                           code="BadParameter")
    return dict(tags)


@dataclass(frozen=True)
class Attributes:
    enabled: bool | None = None
    nbf: int | None = None
    exp: int | None = None


def parse_attributes(raw: Any) -> Attributes:
    if raw is None:
        return Attributes()
    if not isinstance(raw, dict):
        raise InvalidInput("Property 'attributes' must be an object.", code="BadParameter")
    enabled = raw.get("enabled")
    if enabled is not None and not isinstance(enabled, bool):
        raise InvalidInput("Property 'attributes.enabled' must be a boolean.", code="BadParameter")
    times = {}
    for k in ("nbf", "exp"):
        v = raw.get(k)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
            raise InvalidInput(f"Property 'attributes.{k}' must be a Unix time in seconds.", code="BadParameter")
        times[k] = v
    return Attributes(enabled, times["nbf"], times["exp"])


def parse_set_body(body: Any) -> tuple[str, str | None, dict[str, str], Attributes]:
    if not isinstance(body, dict):
        raise InvalidInput("The request body must be a JSON object.", code="BadParameter")
    value = body.get("value")
    if not isinstance(value, str):
        raise InvalidInput("Property 'value' is required and must be a string.", code="BadParameter")
    if len(value) > MAX_VALUE_CHARS:
        raise InvalidInput(f"The secret value exceeds the maximum size of {MAX_VALUE_CHARS} characters.",
                           code="BadParameter")
    content_type = body.get("contentType")
    if content_type is not None and (not isinstance(content_type, str) or len(content_type) > 255):
        raise InvalidInput("Property 'contentType' must be a string.", code="BadParameter")
    return value, content_type, check_tags(body.get("tags")), parse_attributes(body.get("attributes"))
