"""Storage accounts' control-plane rules, used by the control plane for `Microsoft.Storage/storageAccounts`.

- names are 3-24 lower-case letters and digits and globally unique (they are DNS names in Azure):
  `409 StorageAccountAlreadyTaken` "The storage account named X is already taken.";
- `kind` defaults to `StorageV2`, `sku` to Standard_LRS; `allowSharedKeyAccess` is true unless set false;
- two account keys (base64 of 64 random bytes) are made at creation; `listKeys` shows them;
- `primaryEndpoints.blob` is the path-style URL on azmi's one blob listener,
  `https://127.0.0.1:<port>/<account>/` (the SDK takes the first path segment as the account on
  loopback hosts, sdk-compat §6); it follows the listener when azmi restarts on another port.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
import uuid
from typing import Any

from azmi.domain.models import Resource
from azmi.errors import Conflict, InvalidInput, NotFound
from azmi.store.sql import Tx

STORAGE_TYPE_KEY = "microsoft.storage/storageaccounts"
SKUS = ("Standard_LRS", "Standard_GRS", "Standard_RAGRS", "Standard_ZRS", "Premium_LRS", "Premium_ZRS",
        "Standard_GZRS", "Standard_RAGZRS")
KINDS = ("StorageV2", "Storage", "BlobStorage", "BlockBlobStorage", "FileStorage")
SERVER_OWNED = ("primaryEndpoints", "primaryLocation", "statusOfPrimary", "creationTime", "keyCreationTime")


def new_key() -> str:
    return base64.b64encode(secrets.token_bytes(64)).decode()


def iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).isoformat().replace("+00:00", "Z")


class StorageRules:
    def __init__(self, blob_base: str) -> None:
        """blob_base: `https://host:port` of the blob listener."""
        self.blob_base = blob_base.rstrip("/")

    def endpoint(self, name: str) -> str:
        return f"{self.blob_base}/{name}/"

    def kind(self, kind: str | None, old: Resource | None) -> str:
        if kind is None:
            return old.kind if old and old.kind else "StorageV2"
        if kind not in KINDS:
            raise InvalidInput(f"The value '{kind}' is not a valid kind; use one of {', '.join(KINDS)}.",
                               code="InvalidRequestPropertyValue")
        return kind

    def properties(self, props: dict[str, Any], old: Resource | None, location: str, now: float) -> dict[str, Any]:
        out = {k: v for k, v in props.items() if k not in SERVER_OWNED}
        shared = out.get("allowSharedKeyAccess", True)
        if shared is None:
            shared = True
        if not isinstance(shared, bool):
            raise InvalidInput("The property 'allowSharedKeyAccess' must be a boolean.",
                               code="InvalidRequestPropertyValue")
        out["allowSharedKeyAccess"] = shared
        sku = out.pop("sku", None)  # azmi keeps the top-level sku inside properties (see `sku_of`)
        if sku is not None:
            out["sku"] = sku
        out.setdefault("accessTier", "Hot")
        out.setdefault("minimumTlsVersion", "TLS1_2")
        out.setdefault("supportsHttpsTrafficOnly", True)
        created = float(old.created_at) if old else now
        if old is not None:
            out["primaryEndpoints"] = old.properties.get("primaryEndpoints")
        out.update(primaryLocation=location, statusOfPrimary="available", creationTime=iso(created))
        return out

    @staticmethod
    def sku_of(body: dict[str, Any], old: Resource | None) -> dict[str, str]:
        sku = body.get("sku")
        if sku is None:
            return dict(old.properties.get("sku") or {}) if old else {"name": "Standard_LRS", "tier": "Standard"}
        name = sku.get("name") if isinstance(sku, dict) else None
        if name not in SKUS:
            raise InvalidInput(f"The SKU '{name}' is not valid; use one of {', '.join(SKUS)}.",
                               code="InvalidRequestPropertyValue")
        return {"name": name, "tier": name.split("_")[0]}

    def on_create(self, tx: Tx, r: Resource, now: float) -> tuple[dict[str, Any], dict[str, Any]]:
        """Check the global name, make the keys; (final properties, the account row to insert after the resource)."""
        name = r.id.name
        if tx.storage_account(name=name) is not None:
            raise Conflict(f"The storage account named {name} is already taken.", code="StorageAccountAlreadyTaken")
        row = dict(resource_key=r.id.key, name=name, uid=uuid.uuid4().hex, key1=new_key(), key2=new_key(),
                   key1_created=now, key2_created=now)
        return {**r.properties, "primaryEndpoints": {"blob": self.endpoint(name)},
                "keyCreationTime": {"key1": iso(now), "key2": iso(now)}}, row

    @staticmethod
    def keys(tx: Tx, r: Resource) -> dict[str, Any]:
        acct = tx.storage_account(resource_key=r.id.key)
        if acct is None:
            raise NotFound(f"The storage account '{r.id.name}' was not found.")
        return {"keys": [{"keyName": n, "value": acct[n], "permissions": "FULL",
                          "creationTime": iso(acct[f"{n}_created"])} for n in ("key1", "key2")]}
