"""`azmi keyvault`: vaults and their access policies, as `az keyvault` (Microsoft.KeyVault
2023-07-01). Secrets (the vault's data plane) are in `keyvault_secret.py`.

az shows vaults unflattened (`properties.vaultUri`), with `resourceGroup` added. Vault names are
global: without `-g` a vault is found among the subscription's.
"""

from __future__ import annotations

from typing import Any

import click

from azmi.cli.ad import find_principal
from azmi.cli.common import az_command, name_option, parse_tags, rg_option, yes_option
from azmi.cli.context import Session, load_operator
from azmi.cli.errors import CliError
from azmi.cli.keyvault_ops import PERMISSION_KINDS, RBAC_REFUSAL, find_vault, policy_of, set_policy, vault_body
from azmi.cli.resource_commands import group_location
from azmi.cli.resources import VAULT, add_resource_group

VAULT_NAME_HELP = "Name of the Vault."


def get_vault(sess: Session, name: str, resource_group: str | None = None) -> dict[str, Any]:
    if resource_group:
        return sess.arm().get(VAULT.resource_id(sess.subscription_id, resource_group, name), VAULT.api_version)
    return find_vault(sess.arm().list(VAULT.collection_path(sess.subscription_id), VAULT.api_version), name)


def vault_uri(sess: Session, name: str) -> str:
    uri = str((get_vault(sess, name).get("properties") or {}).get("vaultUri") or "")
    if not uri:
        raise CliError(f"vault '{name}' has no vaultUri")
    return uri if uri.endswith("/") else uri + "/"


@click.group("keyvault", help="Manage KeyVault keys, secrets, and certificates.")
def keyvault() -> None:
    pass


@az_command(keyvault, "create", help="Create a Vault.")
@name_option(help=VAULT_NAME_HELP)
@rg_option()
@click.option("-l", "--location", help="Location. Default: the resource group's location.")
@click.option("--enable-rbac-authorization", "rbac", type=click.BOOL, default=True, show_default=True,
              help="Use Azure RBAC (true) or access policies (false) to authorize data actions.")
@click.option("--sku", type=click.Choice(("standard", "premium"), case_sensitive=False), default="standard",
              show_default=True)
@click.option("--retention-days", type=int, help="Soft delete data retention days.")
@click.option("--tags", multiple=True, help="Space-separated tags: key[=value].")
@click.option("--no-wait", is_flag=True, hidden=True)
def create(sess: Session, name: str, resource_group: str, location: str | None, rbac: bool, sku: str,
           retention_days: int | None, tags: tuple[str, ...], no_wait: bool) -> Any:
    endpoints = sess.arm().endpoints
    body = vault_body(location or group_location(sess, resource_group), endpoints.tenant_id, sku.lower(), rbac,
                      load_operator(sess.data_dir).object_id, retention_days, parse_tags(tags))
    path = VAULT.resource_id(sess.subscription_id, resource_group, name)
    return add_resource_group(sess.arm().put(path, VAULT.api_version, body))


@az_command(keyvault, "show", help="Show details of a Vault.")
@name_option(help=VAULT_NAME_HELP)
@rg_option(required=False)
def show(sess: Session, name: str, resource_group: str | None) -> Any:
    return add_resource_group(get_vault(sess, name, resource_group))


@az_command(keyvault, "list", help="List Vaults.")
@rg_option(required=False)
def list_vaults(sess: Session, resource_group: str | None) -> Any:
    path = VAULT.collection_path(sess.subscription_id, resource_group)
    return [add_resource_group(v) for v in sess.arm().list(path, VAULT.api_version)]


@az_command(keyvault, "delete", help="Delete a Vault.")
@name_option(help=VAULT_NAME_HELP)
@rg_option(required=False)
@yes_option()
@click.option("--no-wait", is_flag=True, hidden=True)
def delete(sess: Session, name: str, resource_group: str | None, yes: bool, no_wait: bool) -> None:
    sess.arm().delete(str(get_vault(sess, name, resource_group)["id"]), VAULT.api_version)


def principal_options(fn: Any) -> Any:
    fn = click.option("--spn", help="Name (app id) or object id of a service principal.")(fn)
    return click.option("--object-id", help="A GUID that identifies the principal.")(fn)


def policy_object_id(sess: Session, object_id: str | None, spn: str | None) -> str:
    if bool(object_id) == bool(spn):
        raise CliError("usage error: --object-id OID | --spn SPN")
    if object_id:
        return object_id
    found = find_principal(sess, str(spn))
    if found is None:
        raise CliError(f"Unable to get object id from principal name '{spn}'.")
    return str(found["id"])


def access_policy_vault(sess: Session, name: str, resource_group: str | None, verb: str) -> dict[str, Any]:
    vault = get_vault(sess, name, resource_group)
    if (vault.get("properties") or {}).get("enableRbacAuthorization"):
        raise CliError(RBAC_REFUSAL.replace("set", verb, 1))
    return vault


def update_policies(sess: Session, vault: dict[str, Any], operation: str, policies: list[dict[str, Any]]) -> Any:
    sess.arm().put(f"{vault['id']}/accessPolicies/{operation}", VAULT.api_version,
                   {"properties": {"accessPolicies": policies}})
    return add_resource_group(sess.arm().get(str(vault["id"]), VAULT.api_version))


@az_command(keyvault, "set-policy", help="Update security policy settings for a Key Vault.")
@name_option(help=VAULT_NAME_HELP)
@rg_option(required=False)
@principal_options
@click.option("--secret-permissions", multiple=True, help="Space-separated list of secret permissions to assign.")
@click.option("--key-permissions", multiple=True, help="Space-separated list of key permissions to assign.")
@click.option("--certificate-permissions", multiple=True,
              help="Space-separated list of certificate permissions to assign.")
@click.option("--storage-permissions", multiple=True, help="Space-separated list of storage permissions to assign.")
@click.option("--no-wait", is_flag=True, hidden=True)
def set_policy_cmd(sess: Session, name: str, resource_group: str | None, object_id: str | None, spn: str | None,
                   secret_permissions: tuple[str, ...], key_permissions: tuple[str, ...],
                   certificate_permissions: tuple[str, ...], storage_permissions: tuple[str, ...],
                   no_wait: bool) -> Any:
    oid = policy_object_id(sess, object_id, spn)
    given = dict(zip(PERMISSION_KINDS, (key_permissions, secret_permissions, certificate_permissions,
                                        storage_permissions)))
    if not any(given.values()):
        raise CliError("Specify at least one: --key-permissions, --secret-permissions, "
                       "--certificate-permissions --storage-permissions")
    vault = access_policy_vault(sess, name, resource_group, "set")
    props = vault.get("properties") or {}
    policies = set_policy(props.get("accessPolicies") or [], str(props.get("tenantId")), oid,
                          {k: [p.lower() for p in v] for k, v in given.items()})
    return update_policies(sess, vault, "replace", policies)


@az_command(keyvault, "delete-policy", help="Delete security policy settings for a Key Vault.")
@name_option(help=VAULT_NAME_HELP)
@rg_option(required=False)
@principal_options
@click.option("--no-wait", is_flag=True, hidden=True)
def delete_policy_cmd(sess: Session, name: str, resource_group: str | None, object_id: str | None,
                      spn: str | None, no_wait: bool) -> Any:
    oid = policy_object_id(sess, object_id, spn)
    vault = access_policy_vault(sess, name, resource_group, "delete")
    props = vault.get("properties") or {}
    policy = policy_of(props.get("accessPolicies") or [], str(props.get("tenantId")), oid)
    return update_policies(sess, vault, "remove", [policy])
