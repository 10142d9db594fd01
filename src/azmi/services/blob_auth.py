"""Who is calling the blob service, and may they: bearer tokens (RBAC) or Shared Key (account keys).

- Bearer: verified fully by `Authenticator` (signature, issuer, lifetime) for the audiences Storage
  accepts: `https://storage.azure.com[/]`, the account URL `https://<account>.blob.core.windows.net[/]`
  and Storage's application id. Failures are `401 InvalidAuthenticationInfo` with an
  `AuthenticationErrorDetail`; no header at all is `401 NoAuthenticationInformation`.
- Shared Key: `Authorization: SharedKey <account>:<base64 HMAC-SHA256>` over Azure's string-to-sign
  (`domain.shared_key`), compared in constant time against both keys; `403 AuthenticationFailed`
  when it does not match; `403 KeyBasedAuthenticationNotPermitted` when the account has
  `allowSharedKeyAccess: false`. A key holder may do everything, as in Azure.
- Authorization: blob operations need the data action (`.../containers/blobs/read|write|delete`) through
  a role's `dataActions`; container operations (`.../containers/read|write|delete`) are checked against
  `actions`, where the Storage Blob Data roles list them (see docs/decisions.md, "Blob Storage").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any, Mapping, Sequence
from urllib.parse import unquote

from azmi.clock import Clock
from azmi.domain import shared_key
from azmi.errors import Forbidden, Unauthenticated
from azmi.services.authn import Authenticator
from azmi.services.authz import Authorizer

STORAGE_APP_ID = "e406a681-f3d4-42a8-90b6-c2b029497af1"
DATE_SKEW = 15 * 60
BLOBS = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs"
CONTAINERS = "Microsoft.Storage/storageAccounts/blobServices/containers"
AUTH_FAILED = "Server failed to authenticate the request. Please refer to the information in the www-authenticate header."
KEY_FAILED = ("Server failed to authenticate the request. Make sure the value of Authorization header is formed "
              "correctly including the signature.")
_DETAILS = {"InvalidAudience": "Audience validation failed. Audience did not match.",
            "InvalidIssuer": "Issuer validation failed. Issuer did not match.",
            "TokenExpired": "Lifetime validation failed. The token is expired.",
            "TokenNotYetValid": "Lifetime validation failed. The token is not yet valid.",
            "InvalidSignature": "Signature validation failed. Signature is invalid.",
            "UnknownSigningKey": "Signature validation failed. Unable to match key.",
            "MalformedToken": "Signature validation failed. The token is malformed."}


@dataclass(frozen=True)
class Account:
    name: str
    resource_id: str
    uid: str
    keys: tuple[str, str]
    shared_key_allowed: bool


@dataclass(frozen=True)
class BlobCaller:
    """`claims` is None for a Shared Key caller (the account key holder)."""

    claims: dict[str, Any] | None

    @property
    def object_id(self) -> str:
        return str((self.claims or {}).get("oid", ""))


@lru_cache(maxsize=4096)
def audiences(account: str) -> frozenset[str]:
    return frozenset(("https://storage.azure.com", "https://storage.azure.com/",
                      f"https://{account}.blob.core.windows.net", f"https://{account}.blob.core.windows.net/",
                      STORAGE_APP_ID))


class BlobAuth:
    def __init__(self, authn: Authenticator, authz: Authorizer, clock: Clock) -> None:
        self._authn = authn
        self._authz = authz
        self._clock = clock

    def authenticate(self, acct: Account, method: str, headers: Mapping[str, str], raw_path: str,
                     query: Sequence[tuple[str, str]]) -> BlobCaller:
        header = headers.get("authorization")
        if not header:
            raise Unauthenticated(AUTH_FAILED, code="NoAuthenticationInformation")
        scheme, _, rest = header.partition(" ")
        if scheme == "SharedKey":
            self._shared_key(acct, method, headers, raw_path, query, rest.strip())
            return BlobCaller(None)
        if scheme.lower() != "bearer":
            raise Unauthenticated(AUTH_FAILED, code="InvalidAuthenticationInfo",
                                  inner="Authentication scheme is not supported. Use Bearer or SharedKey.")
        try:
            return BlobCaller(self._authn.authenticate(header, audiences(acct.name)))
        except Unauthenticated as err:
            raise Unauthenticated(AUTH_FAILED, code="InvalidAuthenticationInfo",
                                  inner=_DETAILS.get(err.code, err.message)) from None

    def _shared_key(self, acct: Account, method: str, headers: Mapping[str, str], raw_path: str,
                    query: Sequence[tuple[str, str]], credential: str) -> None:
        name, _, signature = credential.partition(":")
        if not acct.shared_key_allowed:
            raise Forbidden("Key based authentication is not permitted on this storage account.",
                            code="KeyBasedAuthenticationNotPermitted")
        if name != acct.name or not signature:
            raise Forbidden(KEY_FAILED, code="AuthenticationFailed",
                            inner=f"The account name '{name}' in the Authorization header does not match the "
                                  f"account '{acct.name}' of the request.")
        date = headers.get("x-ms-date") or headers.get("date")
        if not date:
            raise Forbidden(KEY_FAILED, code="AuthenticationFailed", inner="Request date header not specified.")
        try:
            parsed = parsedate_to_datetime(date)
            when = (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)).timestamp()
        except (TypeError, ValueError, IndexError):
            raise Forbidden(KEY_FAILED, code="AuthenticationFailed",
                            inner="The Date header in the request is incorrect.") from None
        if abs(when - self._clock.now()) > DATE_SKEW:
            raise Forbidden(KEY_FAILED, code="AuthenticationFailed",
                            inner=f"Request date header too old: '{date}'.")
        texts = shared_key.candidates(method, headers, raw_path, acct.name, query)
        if unquote(raw_path) != raw_path:  # aiohttp's yarl may re-encode the path it signed
            texts += shared_key.candidates(method, headers, unquote(raw_path), acct.name, query)
        if not shared_key.matches(signature, acct.keys, texts):
            shown = texts[0].replace("\n", "\\n")
            raise Forbidden(KEY_FAILED, code="AuthenticationFailed",
                            inner=f"The MAC signature found in the HTTP request '{signature}' is not the same as any "
                                  f"computed signature. Server used following string to sign: '{shown}'.")

    def authorize(self, caller: BlobCaller, acct: Account, action: str, container: str | None) -> None:
        """Shared Key callers pass; bearer callers need `action` at the account or container scope."""
        if caller.claims is None:
            return
        scope = acct.resource_id + (f"/blobServices/default/containers/{container}" if container else "")
        data = action.startswith(BLOBS + "/")
        if self._authz.decide(caller.object_id, action, scope, data=data).allowed:
            return
        hint = ""
        if self._authz.decide(caller.object_id, "Microsoft.Storage/storageAccounts/read", scope, data=False).allowed:
            hint = ("\n(azmi: the caller holds a control-plane role here (e.g. Owner, Contributor or Reader), which "
                    "grants no blob data access. Grant a data role such as 'Storage Blob Data Reader' or "
                    "'Storage Blob Data Contributor' at the account or container scope.)")
        else:
            hint = (f"\n(azmi: no role grants '{action}' to principal {caller.object_id} at this scope. Grant "
                    "'Storage Blob Data Reader' or 'Storage Blob Data Contributor': azmi role assignment create "
                    f"--role \"Storage Blob Data Reader\" --assignee-object-id {caller.object_id} --scope {scope})")
        raise Forbidden("This request is not authorized to perform this operation using this permission.",
                        code="AuthorizationPermissionMismatch", inner=hint)
