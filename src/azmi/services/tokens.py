"""The token service: binding -> resource -> identity (domain.choose) -> cache -> claims -> sign.

Tokens are cached per (identity, audience), as IMDS does: repeated requests get the same
token until fewer than `token_refresh_margin` seconds remain (kept above the SDKs' own
5-minute refresh window so clients never loop).
"""

from __future__ import annotations

import re
import threading
import uuid
from dataclasses import dataclass
from urllib.parse import urlparse

from azmi.clock import Clock
from azmi.domain.models import Principal
from azmi.domain.selection import Selector, choose
from azmi.errors import InvalidResource, NoBinding
from azmi.ids import is_guid
from azmi.services.bindings import BindingIndex, Workload
from azmi.services.keyring import Keyring
from azmi.settings import Settings
from azmi.tokens import claims as claimset
from azmi.tokens.jwt_codec import sign

MAX_RESOURCE_LENGTH = 2048
_URI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*$")


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    issued_at: int
    not_before: int
    expires_on: int
    resource: str
    principal: Principal
    mi_res_id: str | None


def check_audience(resource: str, tenant_id: str) -> str:
    """A token audience must be an absolute URI or an application id (GUID)."""
    parsed = urlparse(resource)
    is_uri = bool(_URI_SCHEME.match(parsed.scheme or "")) and "://" in resource and bool(parsed.netloc)
    ok = (0 < len(resource) <= MAX_RESOURCE_LENGTH and not any(c.isspace() for c in resource)
          and (is_guid(resource) or is_uri))
    if not ok:
        raise InvalidResource(
            f"AADSTS500011: The resource principal named {resource} was not found in the tenant named "
            f"{tenant_id}. This can happen if the application has not been installed by the administrator of "
            "the tenant or consented to by any user in the tenant. You might have sent your authentication "
            "request to the wrong tenant.")
    return resource


class TokenService:
    def __init__(self, settings: Settings, clock: Clock, keyring: Keyring, bindings: BindingIndex) -> None:
        self._s = settings
        self._clock = clock
        self._keyring = keyring
        self._bindings = bindings
        self._cache: dict[tuple[str, str, int], IssuedToken] = {}
        self._lock = threading.Lock()
        self.served = 0  # tokens handed out (cached or new): observable through /azmi/stats
        self.minted = 0  # tokens signed

    def workload(self, column: str, secret: str | None) -> Workload:
        work = self._bindings.lookup(column, secret) if secret else None
        if work is None:
            raise NoBinding("The request did not come from a resource with a managed identity.")
        return work

    def issue(self, work: Workload, selector: Selector, resource: str, *, fresh: bool = False) -> IssuedToken:
        principal = choose(work.system, work.user, selector)
        now = self._clock.now() + work.clock_skew
        key = (principal.object_id, resource, work.clock_skew)
        cached = self._cache.get(key)
        self.served += 1
        if cached is not None and not fresh and cached.expires_on - now > self._s.token_refresh_margin:
            return cached
        check_audience(resource, self._s.tenant_id)  # only on a miss: a cached audience was checked when minted
        token = self._mint(principal, resource, int(now))
        with self._lock:
            self._cache[key] = token
        return token

    def _mint(self, principal: Principal, resource: str, now: int) -> IssuedToken:
        self.minted += 1
        body = claimset.managed_identity_claims(
            tenant_id=self._s.tenant_id, principal=principal, audience=resource, issued_at=now,
            lifetime=self._s.token_lifetime, uti=uuid.uuid4().hex[:22])
        jwt_text = sign(body, self._keyring.active)
        return IssuedToken(jwt_text, now, now, now + self._s.token_lifetime, resource, principal,
                           principal.mi_resource_id if principal.kind == "UserAssigned" else None)

    def forget(self, object_ids: set[str]) -> None:
        """Drop cached tokens of deleted principals."""
        if not object_ids:
            return
        with self._lock:
            for k in [k for k in self._cache if k[0] in object_ids]:
                del self._cache[k]
