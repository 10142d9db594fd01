"""Built-in Azure role definitions with their real GUIDs and permissions (azure-wire.md §5).

Only the roles the chapter and its scenarios need; each is exactly as Azure defines it, so a
learner sees the same `actions` / `dataActions` the portal shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Permission:
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    data_actions: tuple[str, ...] = ()
    not_data_actions: tuple[str, ...] = ()


@dataclass(frozen=True)
class RoleDefinition:
    id: str  # GUID
    name: str  # roleName
    description: str
    permissions: tuple[Permission, ...]
    built_in: bool = True
    assignable_scopes: tuple[str, ...] = ("/",)
    scope: str = ""  # where a custom role is defined ("" for built-ins)
    extra: dict[str, str] = field(default_factory=dict)


_KV_MGMT = ("Microsoft.Authorization/*/read", "Microsoft.Insights/alertRules/*", "Microsoft.Resources/deployments/*",
            "Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.Support/*",
            "Microsoft.KeyVault/checkNameAvailability/read", "Microsoft.KeyVault/deletedVaults/read",
            "Microsoft.KeyVault/locations/*/read", "Microsoft.KeyVault/vaults/*/read", "Microsoft.KeyVault/operations/read")
_MI_COMMON = ("Microsoft.Authorization/*/read", "Microsoft.Insights/alertRules/*",
              "Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.Resources/deployments/*",
              "Microsoft.Support/*")
_BLOB = "Microsoft.Storage/storageAccounts/blobServices"


def _r(guid: str, name: str, description: str, **perm: tuple[str, ...]) -> RoleDefinition:
    return RoleDefinition(guid, name, description, (Permission(**perm),))


BUILT_IN: tuple[RoleDefinition, ...] = (
    _r("8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "Owner",
       "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.",
       actions=("*",)),
    _r("b24988ac-6180-42a0-ab88-20f7382dd24c", "Contributor",
       "Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC, manage "
       "assignments in Azure Blueprints, or share image galleries.",
       actions=("*",),
       not_actions=("Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write",
                    "Microsoft.Authorization/elevateAccess/Action", "Microsoft.Blueprint/blueprintAssignments/write",
                    "Microsoft.Blueprint/blueprintAssignments/delete", "Microsoft.Compute/galleries/share/action",
                    "Microsoft.Purview/consents/write", "Microsoft.Purview/consents/delete",
                    "Microsoft.Resources/deploymentStacks/manageDenySetting/action",
                    "Microsoft.Subscription/cancel/action", "Microsoft.Subscription/enable/action")),
    _r("acdd72a7-3385-48ef-bd42-f606fba81ae7", "Reader", "View all resources, but does not allow you to make any "
       "changes.", actions=("*/read",)),
    _r("18d7d88d-d35e-4fb5-a5c3-7773c20a72d9", "User Access Administrator",
       "Lets you manage user access to Azure resources.",
       actions=("*/read", "Microsoft.Authorization/*", "Microsoft.Support/*")),
    _r("f58310d9-a9f6-439a-9e8d-f62e7b41a168", "Role Based Access Control Administrator",
       "Manage access to Azure resources by assigning roles using Azure RBAC.",
       actions=("Microsoft.Authorization/roleAssignments/write", "Microsoft.Authorization/roleAssignments/delete",
                "*/read", "Microsoft.Support/*")),
    _r("00482a5a-887f-4fb3-b363-3b7fe8e74483", "Key Vault Administrator",
       "Perform all data plane operations on a key vault and all objects in it, including certificates, keys, and "
       "secrets. Cannot manage key vault resources or manage role assignments. Only works for key vaults that use "
       "the 'Azure role-based access control' permission model.",
       actions=_KV_MGMT, data_actions=("Microsoft.KeyVault/vaults/*",)),
    _r("b86a8fe4-44ce-4948-aee5-eccb2c155cd7", "Key Vault Secrets Officer",
       "Perform any action on the secrets of a key vault, except manage permissions. Only works for key vaults "
       "that use the 'Azure role-based access control' permission model.",
       actions=_KV_MGMT, data_actions=("Microsoft.KeyVault/vaults/secrets/*",)),
    _r("4633458b-17de-408a-b874-0445c86b69e6", "Key Vault Secrets User",
       "Read secret contents. Only works for key vaults that use the 'Azure role-based access control' "
       "permission model.",
       data_actions=("Microsoft.KeyVault/vaults/secrets/getSecret/action",
                     "Microsoft.KeyVault/vaults/secrets/readMetadata/action")),
    _r("21090545-7ca7-4776-b22c-e363652d74d2", "Key Vault Reader",
       "Read metadata of key vaults and its certificates, keys, and secrets. Cannot read sensitive values such as "
       "secret contents or key material. Only works for key vaults that use the 'Azure role-based access "
       "control' permission model.",
       actions=_KV_MGMT, data_actions=("Microsoft.KeyVault/vaults/*/read",
                                       "Microsoft.KeyVault/vaults/secrets/readMetadata/action")),
    _r("f25e0fa2-a7c8-4377-a976-54943a77a395", "Key Vault Contributor",
       "Manage key vaults, but does not allow you to assign roles in Azure RBAC, and does not allow you to access "
       "secrets, keys, or certificates.",
       actions=("Microsoft.Authorization/*/read", "Microsoft.Insights/alertRules/*",
                "Microsoft.KeyVault/*", "Microsoft.Resources/deployments/*",
                "Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.Support/*"),
       not_actions=("Microsoft.KeyVault/locations/deletedVaults/purge/action", "Microsoft.KeyVault/hsmPools/*",
                    "Microsoft.KeyVault/managedHsms/*")),
    _r("8b54135c-b56d-4d72-a534-26097cfdc8d8", "Key Vault Data Access Administrator",
       "Manage access to Azure Key Vault by adding or removing role assignments for the Key Vault Administrator, "
       "Key Vault Certificates Officer, Key Vault Crypto Officer, Key Vault Crypto Service Encryption User, Key "
       "Vault Crypto User, Key Vault Reader, Key Vault Secrets Officer, or Key Vault Secrets User roles.",
       actions=("Microsoft.Authorization/roleAssignments/write", "Microsoft.Authorization/roleAssignments/delete",
                "Microsoft.Authorization/*/read", "Microsoft.Resources/deployments/*",
                "Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.KeyVault/vaults/*/read",
                "Microsoft.Management/managementGroups/read", "Microsoft.Resources/subscriptions/read",
                "Microsoft.Support/*")),
    _r("2a2b9908-6ea1-4ae2-8e65-a410df84e7d1", "Storage Blob Data Reader",
       "Read and list Azure Storage containers and blobs.",
       actions=(f"{_BLOB}/containers/read", f"{_BLOB}/generateUserDelegationKey/action"),
       data_actions=(f"{_BLOB}/containers/blobs/read",)),
    _r("ba92f5b4-2d11-453d-a403-e96b0029c9fe", "Storage Blob Data Contributor",
       "Read, write, and delete Azure Storage containers and blobs.",
       actions=(f"{_BLOB}/containers/delete", f"{_BLOB}/containers/read", f"{_BLOB}/containers/write",
                f"{_BLOB}/generateUserDelegationKey/action"),
       data_actions=(f"{_BLOB}/containers/blobs/delete", f"{_BLOB}/containers/blobs/read",
                     f"{_BLOB}/containers/blobs/write", f"{_BLOB}/containers/blobs/move/action",
                     f"{_BLOB}/containers/blobs/add/action")),
    _r("b7e6dc6d-f1e8-4753-8033-0f276bb0955b", "Storage Blob Data Owner",
       "Provides full access to Azure Storage blob containers and data, including assigning POSIX access control.",
       actions=(f"{_BLOB}/containers/*", f"{_BLOB}/generateUserDelegationKey/action"),
       data_actions=(f"{_BLOB}/containers/blobs/*",)),
    _r("f1a07417-d97a-45cb-824c-7a7467783830", "Managed Identity Operator", "Read and Assign User Assigned Identity",
       actions=("Microsoft.ManagedIdentity/userAssignedIdentities/*/read",
                "Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action") + _MI_COMMON),
    _r("e40ec5ca-96e0-45a2-b4ff-59039f2c2b59", "Managed Identity Contributor",
       "Create, Read, Update, and Delete User Assigned Identity",
       actions=("Microsoft.ManagedIdentity/userAssignedIdentities/read",
                "Microsoft.ManagedIdentity/userAssignedIdentities/write",
                "Microsoft.ManagedIdentity/userAssignedIdentities/delete",
                "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/read",
                "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write",
                "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/delete",
                "Microsoft.ManagedIdentity/userAssignedIdentities/revokeTokens/action") + _MI_COMMON),
)

OWNER = BUILT_IN[0]
BY_ID = {r.id: r for r in BUILT_IN}
BY_NAME = {r.name.lower(): r for r in BUILT_IN}
