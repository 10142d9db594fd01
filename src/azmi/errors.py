"""Domain errors: a code and a message, never an HTTP status.

Each surface (ARM, IMDS, App Service, login) renders these in its own wire format;
the mapping lives only in `azmi.http.errors`.
"""

from __future__ import annotations


class AzmiError(Exception):
    code = "Error"

    def __init__(self, message: str, *, code: str | None = None, target: str | None = None,
                 inner: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.target = target
        self.inner = inner  # Key Vault's innererror.code (ForbiddenByRbac, AccessDenied, SecretDisabled ...)


class InvalidInput(AzmiError):
    """The request is malformed: a bad id, a bad value, a missing field."""

    code = "InvalidRequestContent"


class NotFound(AzmiError):
    """A named thing (resource, group, subscription) does not exist."""

    code = "ResourceNotFound"


class ResourceGroupNotFound(NotFound):
    code = "ResourceGroupNotFound"


class SubscriptionNotFound(NotFound):
    code = "SubscriptionNotFound"


class Conflict(AzmiError):
    code = "Conflict"


class LimitExceeded(AzmiError):
    """A limit (identities per resource, per subscription) would be exceeded."""

    code = "BadRequest"


class IdentityNotFound(AzmiError):
    """No identity matches the token request (IMDS: 400 invalid_request 'Identity not found')."""

    code = "IdentityNotFound"

    def __init__(self, message: str = "Identity not found") -> None:
        super().__init__(message)


class AmbiguousIdentity(AzmiError):
    """Several user-assigned identities and no selector."""

    code = "AmbiguousIdentity"

    def __init__(self) -> None:
        super().__init__(
            "Multiple user assigned identities exist, please specify the clientId / resourceId "
            "of the identity in the token request"
        )


class InvalidResource(AzmiError):
    """The requested token audience is not a valid resource identifier."""

    code = "invalid_resource"


class NoBinding(AzmiError):
    """The caller is not running on any resource (IMDS called from outside a VM)."""

    code = "NoBinding"


class Unauthenticated(AzmiError):
    """A bearer token is missing or failed verification; `reason` names the failed check."""

    code = "InvalidAuthenticationToken"


class Forbidden(AzmiError):
    code = "AuthorizationFailed"
