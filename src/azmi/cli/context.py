"""Finding the running azmi and the operator credentials it wrote.

The server writes `{data_dir}/endpoints.json` (URLs, tenant, default subscription, CA bundle)
and `{data_dir}/operator.json` (the operator's client credentials). The data dir is
`--data-dir`, else `AZMI_DATA_DIR` (read by Click), else `~/.azmi`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from azmi.cli.errors import CliError

DEFAULT_DATA_DIR = "~/.azmi"


@dataclass(frozen=True)
class Endpoints:
    arm: str
    login: str
    tenant_id: str
    subscription_id: str
    ca_cert: str | None = None
    imds: str = ""
    appservice: str = ""


@dataclass(frozen=True)
class Operator:
    client_id: str
    client_secret: str
    tenant_id: str
    object_id: str = ""


def resolve_data_dir(option: str | None) -> Path:
    return Path(option or DEFAULT_DATA_DIR).expanduser()


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise CliError(f"{path} does not hold a JSON object")
    return data


def load_endpoints(data_dir: Path) -> Endpoints:
    path = data_dir / "endpoints.json"
    if not path.exists():
        raise CliError(f"azmi is not running (no endpoints in {data_dir}). Start it with: azmi up")
    data = _read_json(path)
    try:
        return Endpoints(arm=data["arm"].rstrip("/"), login=data["login"].rstrip("/"),
                         tenant_id=data["tenant_id"], subscription_id=data["subscription_id"],
                         ca_cert=data.get("ca_cert"), imds=data.get("imds", ""),
                         appservice=data.get("appservice", ""))
    except (KeyError, AttributeError) as exc:
        raise CliError(f"{path} lacks {exc}") from exc


def load_operator(data_dir: Path) -> Operator:
    path = data_dir / "operator.json"
    if not path.exists():
        raise CliError(f"no operator credentials in {data_dir}. Start azmi with: azmi up")
    data = _read_json(path)
    try:
        return Operator(client_id=data["client_id"], client_secret=data["client_secret"],
                        tenant_id=data["tenant_id"], object_id=data.get("object_id", ""))
    except KeyError as exc:
        raise CliError(f"{path} lacks {exc}") from exc


@dataclass
class Session:
    """Per-process state of one CLI invocation: data dir, lazily built ARM client."""

    data_dir: Path
    subscription: str | None = None  # --subscription as given (name or id)
    _client: Any = field(default=None, repr=False)
    _subscription_id: str | None = field(default=None, repr=False)

    def arm(self) -> Any:
        if self._client is None:
            from azmi.cli.client import ArmClient
            self._client = ArmClient(load_endpoints(self.data_dir), load_operator(self.data_dir))
        return self._client

    @property
    def subscription_id(self) -> str:
        if self._subscription_id is None:
            client = self.arm()
            self._subscription_id = client.resolve_subscription(self.subscription)
        return self._subscription_id
