"""`azmi keyvault secret`: a vault's secrets, as `az keyvault secret`, over the vault's own data
plane (`properties.vaultUri`, api-version 7.5) with an operator token for `https://vault.azure.net`.

The vault authorizes the operator like anyone else: on an RBAC vault it needs a data role
(e.g. Key Vault Secrets Officer), on an access-policy vault a policy. Refusals print as az
prints them (`(Forbidden) ...`, `Inner error: {"code": "ForbiddenByRbac"}`), exit 1.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import click

from azmi.cli.client import VAULT_SCOPE
from azmi.cli.common import az_command, parse_tags
from azmi.cli.context import Session
from azmi.cli.errors import CliError
from azmi.cli.keyvault import vault_uri
from azmi.cli.keyvault_ops import KV_DATA_API, secret_view


def data_plane(sess: Session, method: str, url: str, body: Any = None) -> Any:
    return sess.arm().call(method, url, scope=VAULT_SCOPE, body=body, params={"api-version": KV_DATA_API})[1]


def secret_url(sess: Session, vault_name: str, collection: str, *parts: str) -> str:
    return vault_uri(sess, vault_name) + "/".join([collection, *(quote(p, safe="") for p in parts if p)])


def list_all(sess: Session, url: str) -> list[Any]:
    return sess.arm().collect(data_plane(sess, "GET", url), scope=VAULT_SCOPE)


def vault_name_option() -> Any:
    return click.option("--vault-name", required=True, help="Name of the Key Vault.")


def secret_name_option(required: bool = True) -> Any:
    return click.option("-n", "--name", "name", required=required, help="Name of the secret.")


@click.group("secret", help="Manage secrets.")
def secret() -> None:
    pass


@az_command(secret, "set", help="Create a secret (if one doesn't exist) or update a secret in a KeyVault.")
@vault_name_option()
@secret_name_option()
@click.option("--value", help="Plain text secret value.")
@click.option("--content-type", "--description", "content_type", help="Type of the secret value such as a password.")
@click.option("--tags", multiple=True, help="Space-separated tags: key[=value].")
@click.option("--disabled", type=click.BOOL, help="Create secret in disabled state.")
def set_secret(sess: Session, vault_name: str, name: str, value: str | None, content_type: str | None,
               tags: tuple[str, ...], disabled: bool | None) -> Any:
    if value is None:
        raise CliError("usage error: --value VALUE | --file PATH")
    body: dict[str, Any] = {"value": value}
    if content_type:
        body["contentType"] = content_type
    if tags:
        body["tags"] = parse_tags(tags)
    if disabled is not None:
        body["attributes"] = {"enabled": not disabled}
    return secret_view(data_plane(sess, "PUT", secret_url(sess, vault_name, "secrets", name), body))


@az_command(secret, "show", help="Get a specified secret from a given key vault.")
@click.option("--vault-name", help="Name of the Key Vault.")
@secret_name_option(required=False)
@click.option("-v", "--version", default="", help="The secret version. Default: the latest.")
@click.option("--id", "secret_id", help="Id of the secret (https://<vault>/secrets/<name>[/<version>]).")
def show(sess: Session, vault_name: str | None, name: str | None, version: str, secret_id: str | None) -> Any:
    if secret_id:
        return secret_view(data_plane(sess, "GET", secret_id))
    if not vault_name or not name:
        raise CliError("usage error: --id ID | --vault-name VAULT --name NAME [--version VERSION]")
    return secret_view(data_plane(sess, "GET", secret_url(sess, vault_name, "secrets", name, version)))


@az_command(secret, "list", help="List secrets in a specified key vault.")
@vault_name_option()
@click.option("--maxresults", type=int, hidden=True)
@click.option("--include-managed", is_flag=True, hidden=True)
def list_secrets(sess: Session, vault_name: str, maxresults: int | None, include_managed: bool) -> Any:
    items = list_all(sess, secret_url(sess, vault_name, "secrets"))
    return [secret_view(i, with_value=False) for i in items if include_managed or not i.get("managed")]


@az_command(secret, "list-versions", help="List all versions of the specified secret.")
@vault_name_option()
@secret_name_option()
def list_versions(sess: Session, vault_name: str, name: str) -> Any:
    items = list_all(sess, secret_url(sess, vault_name, "secrets", name, "versions"))
    return [secret_view(i, with_value=False) for i in items]


@az_command(secret, "delete", help="Delete a secret from a specified key vault.")
@vault_name_option()
@secret_name_option()
def delete(sess: Session, vault_name: str, name: str) -> Any:
    return secret_view(data_plane(sess, "DELETE", secret_url(sess, vault_name, "secrets", name)))


@az_command(secret, "list-deleted", help="Lists deleted secrets for the specified vault.")
@vault_name_option()
def list_deleted(sess: Session, vault_name: str) -> Any:
    return [secret_view(i, with_value=False) for i in list_all(sess, secret_url(sess, vault_name, "deletedsecrets"))]


@az_command(secret, "show-deleted", help="Get the specified deleted secret.")
@vault_name_option()
@secret_name_option()
def show_deleted(sess: Session, vault_name: str, name: str) -> Any:
    return secret_view(data_plane(sess, "GET", secret_url(sess, vault_name, "deletedsecrets", name)))


@az_command(secret, "recover", help="Recover a deleted secret to its latest version.")
@vault_name_option()
@secret_name_option()
def recover(sess: Session, vault_name: str, name: str) -> Any:
    url = secret_url(sess, vault_name, "deletedsecrets", name, "recover")
    return secret_view(data_plane(sess, "POST", url))


@az_command(secret, "purge", help="Permanently delete the specified secret.")
@vault_name_option()
@secret_name_option()
def purge(sess: Session, vault_name: str, name: str) -> None:
    data_plane(sess, "DELETE", secret_url(sess, vault_name, "deletedsecrets", name))
