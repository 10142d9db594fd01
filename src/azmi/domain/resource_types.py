"""The resource types azmi knows: api-versions, name rules, identity spelling, identity endpoint.

Compute, Container Instances and API Management spell the combined identity type
"SystemAssigned, UserAssigned" (with a space); the common types and App Service use
"SystemAssigned,UserAssigned" (azure-wire.md §4.1). `endpoint` says how code running on the
resource reaches its identity: IMDS (VMs, container groups) or the App Service protocol.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from azmi.errors import InvalidInput, NotFound

IMDS = "imds"
APPSERVICE = "appservice"
NO_ENDPOINT = "none"

_COMPUTE_VERSIONS = ("2017-12-01", "2018-06-01", "2018-10-01", "2019-03-01", "2019-07-01", "2019-12-01",
                     "2020-06-01", "2020-12-01", "2021-03-01", "2021-04-01", "2021-07-01", "2021-11-01",
                     "2022-03-01", "2022-08-01", "2022-11-01", "2023-03-01", "2023-07-01", "2023-09-01",
                     "2024-03-01", "2024-07-01", "2024-11-01", "2025-04-01")
_WEB_VERSIONS = ("2016-08-01", "2018-02-01", "2018-11-01", "2019-08-01", "2020-06-01", "2020-09-01",
                 "2020-12-01", "2021-01-15", "2021-02-01", "2021-03-01", "2022-03-01", "2022-09-01",
                 "2023-01-01", "2023-12-01", "2024-04-01", "2024-11-01")
_ACI_VERSIONS = ("2018-10-01", "2019-12-01", "2020-11-01", "2021-03-01", "2021-09-01", "2021-10-01",
                 "2022-09-01", "2022-10-01-preview", "2023-05-01", "2024-05-01-preview", "2024-10-01-preview")
_MSI_VERSIONS = ("2015-08-31-preview", "2018-11-30", "2021-09-30-preview", "2022-01-31-preview",
                 "2023-01-31", "2023-07-31-preview", "2024-11-30", "2025-01-31-preview")
_LOGIC_VERSIONS = ("2016-06-01", "2018-07-01-preview", "2019-05-01")
_APIM_VERSIONS = ("2019-12-01", "2020-12-01", "2021-08-01", "2022-08-01", "2023-03-01-preview",
                  "2023-05-01-preview", "2023-09-01-preview", "2024-05-01")
_AKS_VERSIONS = ("2021-05-01", "2022-01-01", "2022-09-01", "2023-01-01", "2023-05-01", "2023-08-01",
                 "2024-01-01", "2024-05-01", "2024-09-01", "2025-01-01")
_CONTAINERAPP_VERSIONS = ("2022-03-01", "2022-10-01", "2023-05-01", "2024-03-01", "2025-01-01")

_KEYVAULT_VERSIONS = ("2016-10-01", "2018-02-14", "2019-09-01", "2021-04-01-preview", "2021-06-01-preview",
                      "2021-10-01", "2021-11-01-preview", "2022-02-01-preview", "2022-07-01", "2022-11-01",
                      "2023-02-01", "2023-07-01", "2024-04-01-preview", "2024-11-01", "2024-12-01-preview",
                      "2025-05-01")
_STORAGE_VERSIONS = ("2019-06-01", "2021-01-01", "2021-02-01", "2021-04-01", "2021-06-01", "2021-08-01", "2021-09-01",
                     "2022-05-01", "2022-09-01", "2023-01-01", "2023-04-01", "2023-05-01", "2024-01-01", "2025-01-01",
                     "2025-06-01")
_STORAGE_NAME = re.compile(r"^[a-z0-9]{3,24}$")
_VAULT_NAME = re.compile(r"^(?!.*--)[A-Za-z][-A-Za-z0-9]{1,22}[A-Za-z0-9]$")
_GENERIC_NAME = re.compile(r"^[A-Za-z0-9][-A-Za-z0-9_.]{0,62}[A-Za-z0-9_]$|^[A-Za-z0-9]$")
_SITE_NAME = re.compile(r"^[A-Za-z0-9][-A-Za-z0-9]{0,58}[A-Za-z0-9]$")
_UAMI_NAME = re.compile(r"^[A-Za-z0-9][-A-Za-z0-9_]{2,127}$")


@dataclass(frozen=True)
class ResourceType:
    namespace: str
    type: str
    api_versions: tuple[str, ...]
    name_pattern: re.Pattern[str]
    name_rule: str
    both_spelling: str = "SystemAssigned,UserAssigned"
    endpoint: str = IMDS
    allow_both: bool = True
    max_user_assigned: int | None = None  # a provider's own cap below the global limit

    @property
    def full(self) -> str:
        return f"{self.namespace}/{self.type}"

    def check_name(self, name: str) -> str:
        if not self.name_pattern.match(name):
            raise InvalidInput(f"The resource name '{name}' is invalid. {self.name_rule}",
                               code="InvalidResourceName")
        return name

    def check_api_version(self, version: str) -> None:
        if version not in self.api_versions:
            raise InvalidInput(
                f"No registered resource provider found for location and API version '{version}' for "
                f"type '{self.type}'. The supported api-versions are '{', '.join(self.api_versions)}'.",
                code="NoRegisteredProviderFound")


_GENERIC_RULE = "It must be 1-64 characters of letters, digits, '-', '_' and '.', starting with a letter or digit."

TYPES: tuple[ResourceType, ...] = (
    ResourceType("Microsoft.Compute", "virtualMachines", _COMPUTE_VERSIONS, _GENERIC_NAME, _GENERIC_RULE,
                 both_spelling="SystemAssigned, UserAssigned"),
    ResourceType("Microsoft.Compute", "virtualMachineScaleSets", _COMPUTE_VERSIONS, _GENERIC_NAME,
                 _GENERIC_RULE, both_spelling="SystemAssigned, UserAssigned"),
    ResourceType("Microsoft.Web", "sites", _WEB_VERSIONS, _SITE_NAME,
                 "It must be 2-60 characters of letters, digits and '-', not starting or ending with '-'.",
                 endpoint=APPSERVICE),
    ResourceType("Microsoft.ContainerInstance", "containerGroups", _ACI_VERSIONS, _GENERIC_NAME, _GENERIC_RULE,
                 both_spelling="SystemAssigned, UserAssigned"),
    ResourceType("Microsoft.App", "containerApps", _CONTAINERAPP_VERSIONS, _GENERIC_NAME, _GENERIC_RULE,
                 endpoint=APPSERVICE),
    ResourceType("Microsoft.Logic", "workflows", _LOGIC_VERSIONS, _GENERIC_NAME, _GENERIC_RULE,
                 endpoint=NO_ENDPOINT, allow_both=False, max_user_assigned=1),
    ResourceType("Microsoft.ApiManagement", "service", _APIM_VERSIONS, _GENERIC_NAME, _GENERIC_RULE,
                 both_spelling="SystemAssigned, UserAssigned", endpoint=NO_ENDPOINT),
    ResourceType("Microsoft.ContainerService", "managedClusters", _AKS_VERSIONS, _GENERIC_NAME, _GENERIC_RULE,
                 allow_both=False, max_user_assigned=1),
    ResourceType("Microsoft.KeyVault", "vaults", _KEYVAULT_VERSIONS, _VAULT_NAME,
                 "Vault name must only contain alphanumeric characters and dashes and cannot start with a number; "
                 "it must be 3-24 characters, start with a letter, end with a letter or digit, and not contain "
                 "consecutive hyphens.", endpoint=NO_ENDPOINT),
    ResourceType("Microsoft.Storage", "storageAccounts", _STORAGE_VERSIONS, _STORAGE_NAME,
                 "Storage account name must be between 3 and 24 characters in length and use numbers and lower-case "
                 "letters only.", endpoint=NO_ENDPOINT),
    ResourceType("Microsoft.ManagedIdentity", "userAssignedIdentities", _MSI_VERSIONS, _UAMI_NAME,
                 "It must start with a letter or digit and be 3-128 characters of letters, digits, '-' and '_'.",
                 endpoint=NO_ENDPOINT),
)

_BY_KEY = {t.full.lower(): t for t in TYPES}


def lookup(namespace: str, type_: str) -> ResourceType:
    found = _BY_KEY.get(f"{namespace}/{type_}".lower())
    if found is None:
        raise NotFound(
            f"The resource type '{type_}' could not be found in the namespace '{namespace}' for api version.",
            code="InvalidResourceType")
    return found


def by_full_type(full_type: str) -> ResourceType:
    ns, _, t = full_type.partition("/")
    return lookup(ns, t)

VAULT_TYPE = "Microsoft.KeyVault/vaults"
