"""One frozen Settings object, built at the entry point and passed down.

This is the only module that reads `os.environ`. Parsing is strict: booleans are
`true`/`false` (also 1/0, yes/no), durations are seconds or `<n>s|m|h|d`, and anything
else is an error naming the variable.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping

DEFAULT_TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"  # any GUID; Microsoft's well-known tenant id shape
DEFAULT_SUBSCRIPTION = "00000000-0000-0000-0000-00000000a2a1"


class SettingsError(ValueError):
    pass


_DURATION = re.compile(r"^(\d+)([smhd]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(name: str, value: str) -> int:
    m = _DURATION.match(value.strip())
    if not m:
        raise SettingsError(f"{name}: '{value}' is not a duration (use e.g. 3600, 90s, 7m, 1h)")
    return int(m.group(1)) * _UNITS[m.group(2)]


def parse_bool(name: str, value: str) -> bool:
    v = value.strip().lower()
    if v in ("true", "1", "yes", "on"):
        return True
    if v in ("false", "0", "no", "off"):
        return False
    raise SettingsError(f"{name}: '{value}' is not a boolean (use true or false)")


def parse_int(name: str, value: str, minimum: int = 0) -> int:
    try:
        n = int(value)
    except ValueError:
        raise SettingsError(f"{name}: '{value}' is not an integer") from None
    if n < minimum:
        raise SettingsError(f"{name}: {n} is below the minimum {minimum}")
    return n


def parse_guid(name: str, value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise SettingsError(f"{name}: '{value}' is not a GUID") from None


@dataclass(frozen=True)
class Ports:
    """Listening ports; 0 means "pick a free one" (the chosen ones are written to the data dir)."""

    arm: int = 44300
    login: int = 44301
    imds: int = 44302
    appservice: int = 44303
    keyvault: int = 44310  # first port for vaults: each vault is its own origin (vault n -> a port from here on)


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path.home() / ".azmi"
    in_memory: bool = False
    db_url: str | None = None
    host: str = "127.0.0.1"
    ports: Ports = field(default_factory=Ports)
    tenant_id: str = DEFAULT_TENANT
    subscription_id: str = DEFAULT_SUBSCRIPTION
    subscription_name: str = "azmi-subscription"
    location: str = "eastus"
    token_lifetime: int = 3600
    token_refresh_margin: int = 600
    key_rotation_interval: int = 30 * 86400
    uami_per_resource: int = 20
    uami_per_subscription: int = 1000

    @property
    def database_url(self) -> str:
        if self.db_url:
            return self.db_url
        if self.in_memory:
            return "sqlite://"
        return f"sqlite:///{self.data_dir / 'azmi.db'}"

    def with_overrides(self, **changes: object) -> "Settings":
        return replace(self, **changes)  # type: ignore[arg-type]


def default_data_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get("AZMI_DATA_DIR") or (Path.home() / ".azmi")).expanduser()


def from_env(env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Build Settings from AZMI_* variables, then apply explicit overrides (CLI flags)."""
    env = os.environ if env is None else env
    kw: dict[str, object] = {"data_dir": default_data_dir(env)}
    if "AZMI_IN_MEMORY" in env:
        kw["in_memory"] = parse_bool("AZMI_IN_MEMORY", env["AZMI_IN_MEMORY"])
    if env.get("AZMI_DB"):
        kw["db_url"] = env["AZMI_DB"]
    if env.get("AZMI_HOST"):
        kw["host"] = env["AZMI_HOST"]
    if env.get("AZMI_TENANT_ID"):
        kw["tenant_id"] = parse_guid("AZMI_TENANT_ID", env["AZMI_TENANT_ID"])
    if env.get("AZMI_SUBSCRIPTION_ID"):
        kw["subscription_id"] = parse_guid("AZMI_SUBSCRIPTION_ID", env["AZMI_SUBSCRIPTION_ID"])
    if env.get("AZMI_LOCATION"):
        kw["location"] = env["AZMI_LOCATION"]
    if env.get("AZMI_TOKEN_LIFETIME"):
        kw["token_lifetime"] = parse_duration("AZMI_TOKEN_LIFETIME", env["AZMI_TOKEN_LIFETIME"])
    if env.get("AZMI_TOKEN_REFRESH_MARGIN"):
        kw["token_refresh_margin"] = parse_duration("AZMI_TOKEN_REFRESH_MARGIN", env["AZMI_TOKEN_REFRESH_MARGIN"])
    if env.get("AZMI_KEY_ROTATION_INTERVAL"):
        kw["key_rotation_interval"] = parse_duration("AZMI_KEY_ROTATION_INTERVAL", env["AZMI_KEY_ROTATION_INTERVAL"])
    if env.get("AZMI_UAMI_PER_RESOURCE"):
        kw["uami_per_resource"] = parse_int("AZMI_UAMI_PER_RESOURCE", env["AZMI_UAMI_PER_RESOURCE"], 1)
    if env.get("AZMI_UAMI_PER_SUBSCRIPTION"):
        kw["uami_per_subscription"] = parse_int("AZMI_UAMI_PER_SUBSCRIPTION", env["AZMI_UAMI_PER_SUBSCRIPTION"], 1)
    ports = {}
    for name in ("arm", "login", "imds", "appservice", "keyvault"):
        var = f"AZMI_{name.upper()}_PORT"
        if env.get(var):
            ports[name] = parse_int(var, env[var])
    if ports:
        kw["ports"] = Ports(**ports)  # type: ignore[arg-type]
    kw.update(overrides)
    s = Settings(**kw)  # type: ignore[arg-type]
    if s.token_refresh_margin >= s.token_lifetime:
        raise SettingsError("AZMI_TOKEN_REFRESH_MARGIN must be shorter than AZMI_TOKEN_LIFETIME")
    return s
