"""What the labs set up, through the CLI's own helpers, each step printed as its `azmi` command:
VMs, web and function apps, user-assigned identities, RBAC vaults with a secret, role grants;
and the two things the chapter's code does on a resource: ask IMDS for a token (curl-like) and
read a Key Vault secret with the real SDK (`DefaultAzureCredential`, as the chapter's example).
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import httpx

from azmi.cli.errors import CliError
from azmi.cli.fault import set_clock_skew
from azmi.cli.identity_ops import shown_identity
from azmi.cli.keyvault_ops import KV_DATA_API
from azmi.cli.lab.core import LabFailed, LabRun
from azmi.cli.resource_commands import create_resource, resource_path
from azmi.cli.resources import FUNCTIONAPP, UAMI, VAULT, VM, WEBAPP, Kind
from azmi.cli.role import put_assignment, resolve_role
from azmi.cli.vm import DEFAULT_IMAGE, DEFAULT_SIZE, vm_body
from azmi.cli.webapp import site_body

VAULT_AUDIENCE = "https://vault.azure.net"
SECRET_NAME = "db-password"
SECRET_VALUE = "s3cr3t-from-key-vault"
IMDS_TOKEN_PATH = "/metadata/identity/oauth2/token"
IMDS_QUERY = f"api-version=2018-02-01&resource={VAULT_AUDIENCE}"


def _assign_flag(identities: list[str] | None) -> str:
    if identities is None:
        return ""
    shown = " ".join(i.rsplit("/", 1)[-1] if i.startswith("/") else i for i in identities)
    return f" --assign-identity {shown}".rstrip()


def vm(run: LabRun, name: str, identities: list[str] | None = ("[system]",),  # type: ignore[assignment]
       body: dict[str, Any] | None = None, comment: str = "") -> dict[str, Any]:
    """A VM; `identities`: `--assign-identity` values (UAMI ids or `[system]`), None for none."""
    idents = list(identities) if identities is not None else None
    run.cmd(f"azmi vm create -g {run.rg} -n {name} --image {DEFAULT_IMAGE}{_assign_flag(idents)}{comment}")
    return create_resource(run.sess, VM, run.rg, name, None, body or vm_body(name, DEFAULT_IMAGE, DEFAULT_SIZE,
                                                                             "azureuser", {}),
                           tuple(idents) if idents else None)


def site(run: LabRun, kind: Kind, name: str, identities: list[str] | None = ("[system]",)  # type: ignore[assignment]
         ) -> dict[str, Any]:
    idents = list(identities) if identities is not None else None
    extra = " -s labstorage -c eastus" if kind is FUNCTIONAPP else " -p labplan"
    run.cmd(f"azmi {kind.key} create -g {run.rg} -n {name}{extra}{_assign_flag(idents)}")
    return create_resource(run.sess, kind, run.rg, name, None, site_body(kind, {}), tuple(idents) if idents else None)


def webapp(run: LabRun, name: str, identities: list[str] | None = ("[system]",)) -> dict[str, Any]:  # type: ignore[assignment]
    return site(run, WEBAPP, name, identities)


def functionapp(run: LabRun, name: str, identities: list[str] | None = ("[system]",)) -> dict[str, Any]:  # type: ignore[assignment]
    return site(run, FUNCTIONAPP, name, identities)


def uami(run: LabRun, name: str, quiet: bool = False) -> dict[str, Any]:
    if not quiet:
        run.cmd(f"azmi identity create -g {run.rg} -n {name}")
    return dict(run.arm.put(UAMI.resource_id(run.sub, run.rg, name), UAMI.api_version, {"location": "eastus"}))


def principal_of(resource: dict[str, Any]) -> str:
    return str((resource.get("identity") or {}).get("principalId") or "")


def identity_show(run: LabRun, kind: Kind, name: str) -> dict[str, Any]:
    run.cmd(f"azmi {kind.key} identity show -g {run.rg} -n {name} --query principalId -o tsv")
    resource = run.arm.get(resource_path(run.sess, kind, run.rg, name), kind.api_version)
    return shown_identity(resource.get("identity")) or {}


def grant(run: LabRun, role: str, principal_id: str, scope: str, quiet: bool = False) -> dict[str, Any]:
    if not quiet:
        run.cmd(f"azmi role assignment create --role \"{role}\" --assignee-object-id {principal_id} "
                f"--assignee-principal-type ServicePrincipal --scope {scope}")
    return put_assignment(run.sess, scope, resolve_role(run.sess, role, scope), principal_id, "ServicePrincipal")


def vault_with_secret(run: LabRun) -> dict[str, Any]:
    """An RBAC vault holding `db-password`; the operator (you) gets Key Vault Secrets Officer to write it."""
    name = f"kv{uuid.uuid4().hex[:12]}"
    run.cmd(f"azmi keyvault create -g {run.rg} -n {name}  # RBAC authorization (the default)")
    body = {"location": "eastus", "properties": {"tenantId": run.arm.endpoints.tenant_id,
                                                 "sku": {"family": "A", "name": "standard"},
                                                 "enableRbacAuthorization": True, "accessPolicies": []}}
    vault = dict(run.arm.put(VAULT.resource_id(run.sub, run.rg, name), VAULT.api_version, body))
    operator = run.arm.operator.object_id
    if not operator:
        raise LabFailed("operator.json has no object_id; cannot grant the operator a data role")
    run.cmd(f"azmi role assignment create --role \"Key Vault Secrets Officer\" --assignee <you> --scope {vault['id']}")
    grant(run, "Key Vault Secrets Officer", operator, str(vault["id"]), quiet=True)
    run.cmd(f"azmi keyvault secret set --vault-name {name} -n {SECRET_NAME} --value {SECRET_VALUE}")
    uri = str(vault["properties"]["vaultUri"]).rstrip("/") + "/"
    deadline = time.monotonic() + 15
    while True:  # the vault's own listener starts with the vault
        try:
            run.arm.call("PUT", f"{uri}secrets/{SECRET_NAME}", scope=f"{VAULT_AUDIENCE}/.default",
                         body={"value": SECRET_VALUE}, params={"api-version": KV_DATA_API})
            break
        except CliError as exc:
            if "cannot reach" not in exc.format_message() or time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    vault["uri"] = uri
    return vault


def skew(run: LabRun, kind: Kind, name: str, text: str, seconds: int) -> None:
    run.cmd(f"azmi {kind.key} update -g {run.rg} -n {name} --set clockSkew={text}")
    set_clock_skew(run.sess, resource_path(run.sess, kind, run.rg, name), seconds)


# -- on the resource ------------------------------------------------------------------------------------------

def imds_url(run: LabRun, resource_id: str) -> str:
    set_vars, _ = run.environment(resource_id)
    host = set_vars.get("AZURE_POD_IDENTITY_AUTHORITY_HOST")
    if not host:
        raise LabFailed(f"azmi gave {resource_id} no IMDS endpoint")
    return host.rstrip("/")


def curl_imds(run: LabRun, base: str, metadata: bool = True, shown_base: str = "http://169.254.169.254",
              **params: str) -> httpx.Response:
    """A curl-like IMDS token request against `base` (printed as the well-known address)."""
    query = IMDS_QUERY + "".join(f"&{k}={v}" for k, v in params.items())
    run.request(f"GET {shown_base}{IMDS_TOKEN_PATH}?{query}", {"Metadata": "true"} if metadata else None)
    headers = {"Metadata": "true"} if metadata else {}
    resp = httpx.get(f"{base}{IMDS_TOKEN_PATH}?{query}", headers=headers, timeout=30)
    try:
        body: Any = resp.json()
    except ValueError:
        body = resp.text
    run.response(f"{resp.status_code}", body, ("access_token", "expires_in", "error", "error_description")
                 if isinstance(body, dict) else None)
    return resp


def claims(token: str) -> dict[str, Any]:
    """The (unverified) payload of a JWT: what a learner sees on jwt.ms."""
    part = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


READ_SECRET = '''
import os
os.environ["AZURE_TOKEN_CREDENTIALS"] = "prod"  # DefaultAzureCredential's production chain: env, workload, MI
from azure.identity import DefaultAzureCredential
from azure.keyvault.secrets import SecretClient
from azure.core.exceptions import HttpResponseError
try:
    with DefaultAzureCredential() as cred, SecretClient(P["vault"], cred, verify_challenge_resource=False) as c:
        result(ok=True, value=c.get_secret(P["name"]).value)
except HttpResponseError as exc:
    result(**failure(exc))
'''


def read_secret(run: LabRun, resource_id: str, vault: dict[str, Any], who: str) -> dict[str, Any]:
    """The chapter's code on `resource_id`: SecretClient(vault, DefaultAzureCredential()).get_secret(...)."""
    run.say(f"on {who}: SecretClient(\"{vault['uri']}\", DefaultAzureCredential()).get_secret(\"{SECRET_NAME}\")")
    out = run.python(resource_id, READ_SECRET, vault=vault["uri"], name=SECRET_NAME)
    if out.get("ok"):
        run.response("200", {"value": out.get("value")})
    else:
        inner = f" (inner: {out['inner']})" if out.get("inner") else ""
        run.response(f"{out.get('status')} {out.get('code')}{inner}", out.get("message"))
    return out


def denied_by_rbac(out: dict[str, Any]) -> bool:
    return out.get("status") == 403 and out.get("inner") == "ForbiddenByRbac"
