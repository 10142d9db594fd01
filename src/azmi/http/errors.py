"""Domain errors -> each surface's wire format. The only module that knows status codes.

- ARM:          {"error": {"code", "message"}} with the ARM status (azure-wire.md §4).
- IMDS:         {"error", "error_description"}, always 400 for identity problems (§1.4; a 404
                would make the SDKs retry for ~24 s, sdk-compat §2.7).
- App Service:  {"statusCode", "message", "correlationId"} (§2.1; statuses partly UNCONFIRMED).
- Login:        OAuth {"error", "error_description", "error_codes", ...} (sdk-compat §3.3).
- Blob:         XML <Error><Code/><Message/>...</Error> + `x-ms-error-code` (sdk-compat §6), status by code.
"""

from __future__ import annotations

import uuid

from azmi import errors as e

ARM_STATUS: list[tuple[type[e.AzmiError], int]] = [
    (e.Unauthenticated, 401),
    (e.Forbidden, 403),
    (e.NotFound, 404),
    (e.Conflict, 409),
    (e.LimitExceeded, 400),
    (e.InvalidInput, 400),
    (e.InvalidResource, 400),
]


def _status(table: list[tuple[type[e.AzmiError], int]], err: e.AzmiError, default: int) -> int:
    for cls, status in table:
        if isinstance(err, cls):
            return status
    return default


def arm(err: e.AzmiError) -> tuple[int, dict[str, object]]:
    body: dict[str, object] = {"code": err.code, "message": err.message}
    if err.target:
        body["target"] = err.target
    return _status(ARM_STATUS, err, 400), {"error": body}


IMDS_CODES: list[tuple[type[e.AzmiError], str]] = [
    (e.InvalidResource, "invalid_resource"),
]


def imds(err: e.AzmiError) -> tuple[int, dict[str, object]]:
    code = "invalid_request"
    for cls, c in IMDS_CODES:
        if isinstance(err, cls):
            code = c
    description = "Identity not found" if isinstance(err, e.NoBinding) else err.message
    return 400, {"error": code, "error_description": description}


APPSERVICE_STATUS: list[tuple[type[e.AzmiError], int]] = [
    (e.Unauthenticated, 403),
    (e.InvalidResource, 500),  # MSAL: "wrong resource ends up with a vague statusCode=500"
]


def appservice(err: e.AzmiError) -> tuple[int, dict[str, object]]:
    status = _status(APPSERVICE_STATUS, err, 400)
    message = err.message
    if isinstance(err, (e.IdentityNotFound, e.AmbiguousIdentity)):
        message = "Unable to load the proper Managed Identity."
    return status, {"statusCode": status, "message": message, "correlationId": str(uuid.uuid4())}


def login(err: e.AzmiError) -> tuple[int, dict[str, object]]:
    if isinstance(err, e.Unauthenticated):
        status, code = 401, err.code if err.code.islower() else "invalid_client"
    elif isinstance(err, e.InvalidResource):
        status, code = 400, "invalid_resource"
    elif isinstance(err, e.NotFound):
        status, code = 400, "invalid_tenant"
    else:  # OAuth codes (RFC 6749 §5.2) travel as lower-case domain codes: unsupported_grant_type, invalid_scope
        status, code = 400, err.code if err.code.islower() else "invalid_request"
    aadsts = err.message.split(":", 1)[0] if err.message.startswith("AADSTS") else ""
    body: dict[str, object] = {"error": code, "error_description": err.message,
                               "error_codes": [int(aadsts[6:])] if aadsts[6:].isdigit() else [],
                               "trace_id": str(uuid.uuid4()), "correlation_id": str(uuid.uuid4())}
    return status, body


KEYVAULT_STATUS: list[tuple[type[e.AzmiError], int]] = [
    (e.Unauthenticated, 401),
    (e.Forbidden, 403),
    (e.NotFound, 404),
    (e.Conflict, 409),
]


def keyvault(err: e.AzmiError) -> tuple[int, dict[str, object]]:
    """Key Vault's envelope: {"error": {"code", "message", "innererror": {"code"}}} (lower-case innererror)."""
    status = _status(KEYVAULT_STATUS, err, 400)
    if isinstance(err, e.Unauthenticated):
        known = {"AuthenticationFailed": "AKV10000: Request is missing a Bearer or PoP token.",
                 "InvalidAudience": f"AKV10022: {err.message}", "InvalidIssuer": f"AKV10032: {err.message}"}
        body: dict[str, object] = {"code": "Unauthorized", "message": known.get(err.code, err.message)}
    else:
        body = {"code": err.code, "message": err.message}
    if err.inner:
        body["innererror"] = {"code": err.inner}
    return status, {"error": body}


BLOB_STATUS: list[tuple[type[e.AzmiError], int]] = [
    (e.Unauthenticated, 401),
    (e.Forbidden, 403),
    (e.NotFound, 404),
    (e.Conflict, 409),
]
BLOB_STATUS_BY_CODE = {"ConditionNotMet": 412, "NotModified": 304, "InvalidRange": 416,
                       "MissingContentLengthHeader": 411, "RequestBodyTooLarge": 413, "UnsupportedHttpVerb": 405}


def blob(err: e.AzmiError) -> tuple[int, str, str, dict[str, str]]:
    """(status, code, message, extra elements). `inner` carries the AuthenticationErrorDetail of 401/403
    authentication failures, or azmi's hint (appended to the message) for AuthorizationPermissionMismatch;
    `target` names the offending header or query parameter."""
    status = BLOB_STATUS_BY_CODE.get(err.code) or _status(BLOB_STATUS, err, 400)
    extra: dict[str, str] = {}
    if err.inner and err.code != "AuthorizationPermissionMismatch":
        extra["AuthenticationErrorDetail"] = err.inner
    if err.target:
        is_header = err.target.lower().startswith(("x-ms-", "content-", "if-", "range"))
        extra["HeaderName" if is_header else "QueryParameterName"] = err.target
    return status, err.code, err.message, extra
