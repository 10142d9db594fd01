"""`azmi storage`: storage accounts (Microsoft.Storage/storageAccounts 2023-05-01) as `az storage account`,
plus the Blob data plane (`storage container`, `storage blob`, in `storage_blob.py`).

az prints accounts as the SDK's flattened model (`primaryEndpoints`, `allowSharedKeyAccess`, ... at
the top level, `resourceGroup` added). Account names are global: without `-g` an account is found
among the subscription's. `--sku` defaults to Standard_RAGRS and `-l` to the group's location, as in az.
"""

from __future__ import annotations

from typing import Any

import click

from azmi.cli.common import az_command, confirm, name_option, parse_tags, rg_option, yes_option
from azmi.cli.context import Session
from azmi.cli.errors import CliError
from azmi.cli.resource_commands import group_location
from azmi.cli.resources import az_view
from azmi.cli.storage_blob import blob, container
from azmi.cli.storage_data import STORAGE, get_account, list_keys
from azmi.cli.storage_ops import STORAGE_API, connection_string

NAME_HELP = "The storage account name."
SKUS = ("Standard_LRS", "Standard_GRS", "Standard_RAGRS", "Standard_ZRS", "Premium_LRS", "Premium_ZRS",
        "Standard_GZRS", "Standard_RAGZRS")
KINDS = ("StorageV2", "Storage", "BlobStorage", "BlockBlobStorage", "FileStorage")


@click.group("storage", help="Manage Azure Cloud Storage resources.")
def storage() -> None:
    pass


@click.group("account", help="Manage storage accounts.")
def account() -> None:
    pass


@click.group("keys", help="Manage storage account keys.")
def keys() -> None:
    pass


account.add_command(keys)
for _group in (account, container, blob):
    storage.add_command(_group)


def shared_key_option(required: bool = False) -> Any:
    return click.option("--allow-shared-key-access", "allow_shared_key_access", type=click.BOOL, required=required,
                        help="Whether requests authorized with the account key are permitted (default: true).")


@az_command(account, "create", help="Create a storage account.")
@name_option(help=NAME_HELP)
@rg_option()
@click.option("-l", "--location", help="Location. Default: the resource group's location.")
@click.option("--kind", type=click.Choice(KINDS), default="StorageV2", show_default=True,
              help="The type of storage account.")
@click.option("--sku", type=click.Choice(SKUS), default="Standard_RAGRS", show_default=True,
              help="The storage account SKU.")
@shared_key_option()
@click.option("--tags", multiple=True, help="Space-separated tags: key[=value].")
def create(sess: Session, name: str, resource_group: str, location: str | None, kind: str, sku: str,
           allow_shared_key_access: bool | None, tags: tuple[str, ...]) -> Any:
    props: dict[str, Any] = {}
    if allow_shared_key_access is not None:
        props["allowSharedKeyAccess"] = allow_shared_key_access
    body = {"location": location or group_location(sess, resource_group), "kind": kind, "sku": {"name": sku},
            "tags": parse_tags(tags), "properties": props}
    return az_view(sess.arm().put(STORAGE.resource_id(sess.subscription_id, resource_group, name), STORAGE_API, body))


@az_command(account, "show", help="Show storage account properties.")
@name_option(help=NAME_HELP)
@rg_option(required=False)
def show(sess: Session, name: str, resource_group: str | None) -> Any:
    return az_view(get_account(sess, name, resource_group))


@az_command(account, "list", help="List storage accounts.")
@rg_option(required=False)
def list_accounts(sess: Session, resource_group: str | None) -> Any:
    path = STORAGE.collection_path(sess.subscription_id, resource_group)
    return [az_view(a) for a in sess.arm().list(path, STORAGE_API)]


@az_command(account, "delete", help="Delete a storage account.")
@name_option(help=NAME_HELP)
@rg_option(required=False)
@yes_option()
def delete(sess: Session, name: str, resource_group: str | None, yes: bool) -> None:
    confirm(yes)
    sess.arm().delete(str(get_account(sess, name, resource_group)["id"]), STORAGE_API)


@az_command(account, "update", help="Update the properties of a storage account.")
@name_option(help=NAME_HELP)
@rg_option(required=False)
@shared_key_option()
@click.option("--tags", multiple=True, help="Space-separated tags: key[=value]. Use \"\" to clear tags.")
def update(sess: Session, name: str, resource_group: str | None, allow_shared_key_access: bool | None,
           tags: tuple[str, ...]) -> Any:
    found = get_account(sess, name, resource_group)
    body: dict[str, Any] = {}
    if allow_shared_key_access is not None:
        body["properties"] = {"allowSharedKeyAccess": allow_shared_key_access}
    if tags:
        body["tags"] = parse_tags(tags)
    if not body:
        return az_view(found)
    return az_view(sess.arm().patch(str(found["id"]), STORAGE_API, body))


@az_command(keys, "list", help="List the access keys or Kerberos keys (if active directory enabled) for a storage "
                                "account.")
@click.option("-n", "--account-name", "--name", "name", required=True, help=NAME_HELP)
@rg_option(required=False)
def keys_list(sess: Session, name: str, resource_group: str | None) -> Any:
    return [{"creationTime": k.get("creationTime"), "keyName": k.get("keyName"),
             "permissions": str(k.get("permissions") or "").upper(), "value": k.get("value")}
            for k in list_keys(sess, get_account(sess, name, resource_group))]


@az_command(account, "show-connection-string", help="Get the connection string for a storage account.")
@name_option(help=NAME_HELP)
@rg_option(required=False)
@click.option("--key", "key_name", type=click.Choice(("primary", "secondary")), default="primary",
              show_default=True, help="The key to use.")
def show_connection_string(sess: Session, name: str, resource_group: str | None, key_name: str) -> Any:
    found = get_account(sess, name, resource_group)
    listed = list_keys(sess, found)
    index = 0 if key_name == "primary" else 1
    if len(listed) <= index:
        raise CliError(f"Storage account '{name}' has no {key_name} key.")
    endpoint = str(((found.get("properties") or {}).get("primaryEndpoints") or {}).get("blob") or "")
    return {"connectionString": connection_string(str(found["name"]), str(listed[index]["value"]), endpoint)}
