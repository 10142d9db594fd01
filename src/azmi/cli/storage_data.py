"""Storage accounts through ARM, and the Blob service data plane as `az storage container|blob` reach it.

Credentials, as az's `validate_client_parameters`: `--auth-mode login` uses the operator's token for
`https://storage.azure.com/.default`; otherwise `--connection-string` (or AZURE_STORAGE_CONNECTION_STRING),
`--account-key` (or AZURE_STORAGE_KEY), and failing both the account key is queried through ARM's
listKeys, with az's warning. Requests are signed with Shared Key (`azmi.domain.shared_key`, the string
the SDK signs: the path as sent, `/<account>/<account>/...` on azmi's path-style endpoint).

The account's blob endpoint is the connection string's `BlobEndpoint`, else azmi's blob listener
(`endpoints.json`) plus `/<account>` -- the counterpart of `<account>.blob.core.windows.net`.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from email.utils import format_datetime
from typing import Any
from urllib.parse import quote

import click
import httpx

from azmi.cli.context import Session
from azmi.cli.errors import EXIT_NOT_FOUND, CliError
from azmi.cli.resources import Kind
from azmi.cli.storage_ops import (BLOB_VERSION, KEY_QUERY_WARNING, LOGIN_HINT, STORAGE_API, STORAGE_SCOPE,
                                  error_text, parse_connection_string, parse_error)
from azmi.domain.shared_key import sign, string_to_sign

STORAGE = Kind("storage", "storage account", "Microsoft.Storage", "storageAccounts", STORAGE_API)


# --- accounts (ARM) -----------------------------------------------------------------------------

def get_account(sess: Session, name: str, resource_group: str | None = None) -> dict[str, Any]:
    """An account by name; without a group, found among the subscription's (names are global)."""
    if resource_group:
        return sess.arm().get(STORAGE.resource_id(sess.subscription_id, resource_group, name), STORAGE_API)
    for account in sess.arm().list(STORAGE.collection_path(sess.subscription_id), STORAGE_API):
        if str(account.get("name", "")).lower() == name.lower():
            return account
    raise CliError(f"The Resource '{STORAGE.provider}/{name}' under resource group '' was not found. For more "
                   "details please go to https://aka.ms/ARMResourceNotFoundFix", exit_code=EXIT_NOT_FOUND)


def list_keys(sess: Session, account: dict[str, Any]) -> list[dict[str, Any]]:
    _, data = sess.arm().request("POST", f"{account['id']}/listKeys", STORAGE_API)
    return list((data or {}).get("keys") or [])


def account_key(sess: Session, name: str) -> str:
    keys = list_keys(sess, get_account(sess, name))
    if not keys:
        raise CliError(f"Storage account '{name}' has no keys.")
    return str(keys[0]["value"])


def blob_listener(sess: Session) -> str:
    path = sess.data_dir / "endpoints.json"
    try:
        base = str(json.loads(path.read_text(encoding="utf-8")).get("blob") or "")
    except (OSError, ValueError):
        base = ""
    if not base:
        raise CliError(f"azmi's blob endpoint is unknown (no 'blob' in {path}). Start azmi with: azmi up")
    return base.rstrip("/")


# --- the data plane -----------------------------------------------------------------------------

@dataclass
class BlobService:
    """One account's blob endpoint plus a credential: a Shared Key or (login) a bearer token."""

    sess: Session
    account: str
    endpoint: str  # https://host:port/<account>, no trailing slash
    key: str | None = None
    login: bool = False

    def url_path(self, container: str = "", blob: str = "") -> str:
        base = httpx.URL(self.endpoint).raw_path.decode().rstrip("/")
        parts = [quote(container, safe="")] if container else []
        if blob:
            parts.append(quote(blob, safe="/~"))
        return "/".join([base, *parts]) if parts else base + "/"

    def send(self, method: str, container: str = "", blob: str = "", query: list[tuple[str, str]] | None = None,
             headers: dict[str, str] | None = None, content: bytes | None = None,
             ok_codes: tuple[str, ...] = ()) -> httpx.Response:
        """Send one request; an error response raises CliError unless its code is in `ok_codes`."""
        path = self.url_path(container, blob)
        pairs = [(k, quote(v, safe="")) for k, v in (query or [])]
        qs = "&".join(f"{k}={v}" for k, v in pairs)
        now = format_datetime(dt.datetime.now(dt.timezone.utc), usegmt=True)
        sent = {"x-ms-version": BLOB_VERSION, "x-ms-date": now, **{k.lower(): v for k, v in (headers or {}).items()}}
        if content is not None or method in ("PUT", "POST"):
            sent["content-length"] = str(len(content or b""))
        if self.login:
            sent["authorization"] = f"Bearer {self.sess.arm().token(STORAGE_SCOPE)}"
        elif self.key:
            text = string_to_sign(method, sent, path, self.account, pairs)
            sent["authorization"] = f"SharedKey {self.account}:{sign(self.key, text)}"
        origin = httpx.URL(self.endpoint)
        url = f"{origin.scheme}://{origin.netloc.decode()}{path}" + (f"?{qs}" if qs else "")
        body = content if content is not None else (b"" if method in ("PUT", "POST") else None)
        resp = self.sess.arm()._send(method, url, headers=sent, content=body)
        if resp.status_code >= 400:
            code, message, extra = parse_error(resp.content, resp.status_code, resp.reason_phrase,
                                               resp.headers.get("x-ms-error-code", ""))
            if code in ok_codes:
                return resp
            raise CliError(self.explain(code, error_text(code, message, extra)),
                           exit_code=EXIT_NOT_FOUND if resp.status_code == 404 else 1, code=code)
        return resp

    def explain(self, code: str, text: str) -> str:
        if self.login and code == "AuthorizationPermissionMismatch":
            return text + "\n" + LOGIN_HINT
        return text


def _warn(message: str) -> None:
    params = click.get_current_context().params
    if not params.get("only_show_errors"):
        click.echo(f"WARNING: {message}", err=True)


def blob_service(sess: Session, account_name: str | None, auth_mode: str | None, account_key_: str | None,
                 conn: str | None) -> BlobService:
    """az's credential resolution for a data-plane command."""
    settings: dict[str, str] = {}
    if auth_mode != "login" and conn:
        try:
            settings = parse_connection_string(conn)
        except ValueError as exc:
            raise CliError(str(exc)) from None
        account_name = settings.get("AccountName") or account_name
        account_key_ = settings.get("AccountKey") or account_key_
    if not account_name:
        raise CliError("Missing account name: use --account-name, --connection-string or the environment variable "
                       "AZURE_STORAGE_ACCOUNT.")
    endpoint = (settings.get("BlobEndpoint") or f"{blob_listener(sess)}/{account_name}").rstrip("/")
    if auth_mode == "login":
        return BlobService(sess, account_name, endpoint, login=True)
    if not account_key_:
        _warn(KEY_QUERY_WARNING)
        account_key_ = account_key(sess, account_name)
    return BlobService(sess, account_name, endpoint, key=account_key_)


def auth_options(fn: Any) -> Any:
    """az's data-plane credential options (and the AZURE_STORAGE_* variables az reads)."""
    fn = click.option("--connection-string", envvar="AZURE_STORAGE_CONNECTION_STRING",
                      help="Storage account connection string. Environment variable: "
                           "AZURE_STORAGE_CONNECTION_STRING.")(fn)
    fn = click.option("--account-key", envvar="AZURE_STORAGE_KEY",
                      help="Storage account key. Environment variable: AZURE_STORAGE_KEY.")(fn)
    fn = click.option("--auth-mode", type=click.Choice(("key", "login")), envvar="AZURE_STORAGE_AUTH_MODE",
                      help="The mode in which to run the command. \"login\" uses your login credentials; \"key\" "
                           "an account key (queried when not given).")(fn)
    return click.option("--account-name", envvar="AZURE_STORAGE_ACCOUNT",
                        help="Storage account name. Environment variable: AZURE_STORAGE_ACCOUNT.")(fn)


def service_of(sess: Session, kw: dict[str, Any]) -> BlobService:
    """Pop the credential options out of a command's keyword arguments and resolve them."""
    return blob_service(sess, kw.pop("account_name"), kw.pop("auth_mode"), kw.pop("account_key"),
                        kw.pop("connection_string"))
