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
from typing import Callable, Mapping

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
    blob: int = 44320  # one listener for every storage account (path-style URLs: /<account>/...)


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
    # Fault and fidelity controls (issue: traps on purpose). All off by default: fast and deterministic.
    profile: str = "default"
    imds_rate_limit: int = 0  # identity requests per second per resource (Azure: 20); 0 = unlimited
    imds_max_concurrent: int = 0  # in-flight identity requests per resource (Azure: 5); 0 = unlimited
    rbac_propagation_delay: int = 0  # seconds before a role assignment change takes effect (Azure: minutes)
    transient_failure_rate: float = 0.0  # share of identity-endpoint requests that fail transiently
    transient_statuses: tuple[int, ...] = (500, 503, 410)
    slow_response_ms: int = 0  # delay added to every identity-endpoint response
    fault_seed: int | None = None  # seed for the transient-failure dice, for reproducible runs
    blob_dir: Path | None = None  # blob content (default <data dir>/blobs); nodes of one store must share it

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


PROFILES: dict[str, dict[str, object]] = {
    "default": {},
    # Azure-realistic: MI tokens live ~24 h, IMDS limits identity requests to 20/s and 5 concurrent per VM,
    # role assignments take minutes to propagate (azure-wire.md §1.3, §1.5, §4.5).
    "azure": {"token_lifetime": 86400, "imds_rate_limit": 20, "imds_max_concurrent": 5,
              "rbac_propagation_delay": 300},
}


def parse_rate(name: str, value: str) -> float:
    try:
        rate = float(value)
    except ValueError:
        raise SettingsError(f"{name}: '{value}' is not a number between 0 and 1") from None
    if not 0.0 <= rate <= 1.0:
        raise SettingsError(f"{name}: {rate} is not between 0 and 1")
    return rate


def parse_statuses(name: str, value: str) -> tuple[int, ...]:
    codes = tuple(parse_int(name, v.strip()) for v in value.split(",") if v.strip())
    if not codes or any(c < 400 or c > 599 for c in codes):
        raise SettingsError(f"{name}: '{value}' must be a comma-separated list of 4xx/5xx statuses")
    return codes


def _positive(name: str, value: str) -> int:
    return parse_int(name, value, 1)


# AZMI_* variable -> Settings field, with the strict parser for its kind of value
_VARIABLES: tuple[tuple[str, str, Callable[[str, str], object]], ...] = (
    ("AZMI_TOKEN_LIFETIME", "token_lifetime", parse_duration),
    ("AZMI_TOKEN_REFRESH_MARGIN", "token_refresh_margin", parse_duration),
    ("AZMI_KEY_ROTATION_INTERVAL", "key_rotation_interval", parse_duration),
    ("AZMI_UAMI_PER_RESOURCE", "uami_per_resource", _positive),
    ("AZMI_UAMI_PER_SUBSCRIPTION", "uami_per_subscription", _positive),
    ("AZMI_IMDS_RATE_LIMIT", "imds_rate_limit", parse_int),
    ("AZMI_IMDS_MAX_CONCURRENT", "imds_max_concurrent", parse_int),
    ("AZMI_SLOW_RESPONSE_MS", "slow_response_ms", parse_int),
    ("AZMI_RBAC_PROPAGATION_DELAY", "rbac_propagation_delay", parse_duration),
    ("AZMI_TRANSIENT_FAILURE_RATE", "transient_failure_rate", parse_rate),
    ("AZMI_TRANSIENT_STATUSES", "transient_statuses", parse_statuses),
    ("AZMI_FAULT_SEED", "fault_seed", parse_int),
)


def from_env(env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Build Settings: the profile's values, then AZMI_* variables, then explicit overrides (CLI flags)."""
    env = os.environ if env is None else env
    profile = str(overrides.get("profile") or env.get("AZMI_PROFILE") or "default")
    if profile not in PROFILES:
        raise SettingsError(f"AZMI_PROFILE: '{profile}' is not a profile (use {' or '.join(PROFILES)})")
    kw: dict[str, object] = {"data_dir": default_data_dir(env), "profile": profile, **PROFILES[profile]}
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
    if env.get("AZMI_BLOB_DIR"):
        kw["blob_dir"] = Path(env["AZMI_BLOB_DIR"]).expanduser()
    if env.get("AZMI_LOCATION"):
        kw["location"] = env["AZMI_LOCATION"]
    for var, field_name, parse in _VARIABLES:
        if env.get(var):
            kw[field_name] = parse(var, env[var])
    ports = {}
    for name in ("arm", "login", "imds", "appservice", "keyvault", "blob"):
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
