"""The environment a process on a resource sees, as Azure injects it (sdk-compat §1, §9.10).

VMs and container groups reach IMDS; azmi points `AZURE_POD_IDENTITY_AUTHORITY_HOST` (honoured
by MSAL and azure-identity) at the resource's own IMDS path. Web and function apps get
`IDENTITY_ENDPOINT`/`IDENTITY_HEADER` (and the legacy `MSI_*` pair) only while they have an
identity, as on App Service. Variables that do not apply are unset, never blank, and
developer credentials that would change which credential the SDK picks are removed.
"""

from __future__ import annotations

from typing import Any

from azmi.domain import resource_types
from azmi.domain.models import Resource
from azmi.http.endpoints import Endpoints

IDENTITY_VARS = ("AZURE_POD_IDENTITY_AUTHORITY_HOST", "IDENTITY_ENDPOINT", "IDENTITY_HEADER",
                 "IDENTITY_SERVER_THUMBPRINT", "IMDS_ENDPOINT", "MSI_ENDPOINT", "MSI_SECRET")
DEVELOPER_CREDENTIAL_VARS = ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID",
                             "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_CLIENT_CERTIFICATE_PASSWORD",
                             "AZURE_USERNAME", "AZURE_PASSWORD", "AZURE_FEDERATED_TOKEN_FILE",
                             "AZURE_AUTHORITY_HOST", "AZURE_TOKEN_CREDENTIALS")
APP_VARS = ("WEBSITE_SITE_NAME", "WEBSITE_RESOURCE_GROUP", "WEBSITE_OWNER_NAME", "FUNCTIONS_EXTENSION_VERSION")


def workload_environment(r: Resource, endpoints: Endpoints, trust_bundle: str) -> dict[str, Any]:
    rtype = resource_types.by_full_type(r.id.full_type)
    env: dict[str, str] = {"REQUESTS_CA_BUNDLE": trust_bundle, "SSL_CERT_FILE": trust_bundle}
    if rtype.endpoint == resource_types.IMDS:
        env["AZURE_POD_IDENTITY_AUTHORITY_HOST"] = f"{endpoints.imds}/{r.binding_key}"
    elif rtype.endpoint == resource_types.APPSERVICE:
        env["WEBSITE_SITE_NAME"] = r.id.name
        env["WEBSITE_RESOURCE_GROUP"] = r.id.resource_group
        env["WEBSITE_OWNER_NAME"] = f"{r.id.subscription}+{r.id.resource_group}-{r.location}webspace"
        if (r.kind or "").lower().startswith("functionapp"):
            env["FUNCTIONS_EXTENSION_VERSION"] = "~4"
        if r.system_identity is not None or r.user_assigned:
            token_url = f"{endpoints.appservice}/msi/token"
            env.update(IDENTITY_ENDPOINT=token_url, IDENTITY_HEADER=r.identity_header, MSI_ENDPOINT=token_url,
                       MSI_SECRET=r.identity_header)
    unset = sorted(v for v in IDENTITY_VARS + DEVELOPER_CREDENTIAL_VARS + APP_VARS if v not in env)
    return {"resourceId": str(r.id), "endpoint": rtype.endpoint, "set": env, "unset": unset}
