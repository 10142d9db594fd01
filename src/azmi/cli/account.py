"""`azmi account list|show`, in az's shape (`az account show`).

az shows the signed-in user; azmi's operator is shown as `operator@azmi.local`.
"""

from __future__ import annotations

from typing import Any

import click

from azmi.cli.common import az_command
from azmi.cli.context import Session

OPERATOR_USER = {"name": "operator@azmi.local", "type": "user"}


def account_view(sub: dict[str, Any], default_id: str, tenant_id: str) -> dict[str, Any]:
    sid = str(sub.get("subscriptionId") or str(sub.get("id", "")).rsplit("/", 1)[-1])
    tenant = sub.get("tenantId") or tenant_id
    return {
        "cloudName": "AzureCloud", "homeTenantId": tenant, "id": sid,
        "isDefault": sid.lower() == default_id.lower(), "managedByTenants": [],
        "name": sub.get("displayName") or sid, "state": sub.get("state") or "Enabled",
        "tenantId": tenant, "user": dict(OPERATOR_USER),
    }


@click.group("account", help="Manage Azure subscription information.")
def account() -> None:
    pass


@az_command(account, "list", help="Get a list of subscriptions for the logged in account.")
@click.option("--all", "all_", is_flag=True, hidden=True)
def list_accounts(sess: Session, all_: bool) -> Any:
    client = sess.arm()
    default = client.endpoints.subscription_id
    return [account_view(s, default, client.endpoints.tenant_id) for s in client.subscriptions()]


@az_command(account, "show", help="Get the details of a subscription.")
@click.option("--name", "-n", "name", hidden=True, help="Name or ID of subscription.")
def show(sess: Session, name: str | None) -> Any:
    client = sess.arm()
    if name:
        sess.subscription = name
    sub = client.get(f"/subscriptions/{sess.subscription_id}", "2022-12-01")
    return account_view(sub, client.endpoints.subscription_id, client.endpoints.tenant_id)
