"""The token service: binding -> resource -> identity (domain.choose) -> cache -> claims -> sign.

Tokens are cached per (identity, audience), as IMDS does: repeated requests get the same
token until fewer than `token_refresh_margin` seconds remain (kept above the SDKs' own
5-minute refresh window so clients never loop).

A cache hit is answered at once, in the caller's thread (the server's event loop). A miss is
signed on a small thread pool, because RSA signing releases the GIL: with one signer per core,
cold minting is not bound to the event loop's core. Concurrent misses for one cache key share
one mint (one token), as a single-flight.
"""

from __future__ import annotations

import os
import re
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
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
CacheKey = tuple[str, str, int]  # (principal object id, audience, the workload's clock skew)

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def signing_pool() -> ThreadPoolExecutor:
    """One pool per process, one signer per core, started on the first miss (most processes never mint)."""
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="azmi-sign")
    return _pool


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
        self._cache: dict[CacheKey, IssuedToken] = {}
        self._pending: dict[CacheKey, Future[IssuedToken]] = {}  # mints in flight, one per key
        self._lock = threading.Lock()
        self.served = 0  # tokens handed out (cached or new): observable through /azmi/stats
        self.minted = 0  # tokens signed

    def workload(self, column: str, secret: str | None) -> Workload:
        work = self._bindings.lookup(column, secret) if secret else None
        if work is None:
            raise NoBinding("The request did not come from a resource with a managed identity.")
        return work

    def issue(self, work: Workload, selector: Selector, resource: str, *, fresh: bool = False) -> IssuedToken:
        """The token, waiting for a mint if there is one to make (for callers outside the event loop)."""
        got = self.issue_nowait(work, selector, resource, fresh=fresh)
        return got if isinstance(got, IssuedToken) else got.result()

    def issue_nowait(self, work: Workload, selector: Selector, resource: str, *,
                     fresh: bool = False) -> IssuedToken | Future[IssuedToken]:
        """A cached token at once, or a future of the mint running on the signing pool.

        Selection and audience errors are raised here, synchronously; the future only fails on a bug.
        """
        principal = choose(work.system, work.user, selector)
        now = self._clock.now() + work.clock_skew
        key = (principal.object_id, resource, work.clock_skew)
        cached = self._cache.get(key)
        if cached is not None and not fresh and cached.expires_on - now > self._s.token_refresh_margin:
            self.served += 1
            return cached
        check_audience(resource, self._s.tenant_id)  # only on a miss: a cached audience was checked when minted
        with self._lock:
            self.served += 1
            pending = self._pending.get(key)
            if pending is not None:  # the same key is being signed right now: share that token
                return pending
            cached = self._cache.get(key)  # a mint may have finished since the look above
            if cached is not None and not fresh and cached.expires_on - now > self._s.token_refresh_margin:
                return cached
            pending = Future()
            self._pending[key] = pending
            self.minted += 1
        signing_pool().submit(self._mint_into, pending, key, principal, resource, int(now))
        return pending

    def _mint_into(self, pending: Future[IssuedToken], key: CacheKey, principal: Principal, resource: str,
                   now: int) -> None:
        """Runs on the signing pool: sign, cache (unless forgotten meanwhile), then wake the waiters."""
        try:
            token = self._mint(principal, resource, now)
        except BaseException as exc:
            with self._lock:
                if self._pending.get(key) is pending:
                    del self._pending[key]
            pending.set_exception(exc)
            return
        with self._lock:
            if self._pending.get(key) is pending:  # not forgotten while it was signed
                del self._pending[key]
                self._cache[key] = token
        pending.set_result(token)

    def _mint(self, principal: Principal, resource: str, now: int) -> IssuedToken:
        body = claimset.managed_identity_claims(
            tenant_id=self._s.tenant_id, principal=principal, audience=resource, issued_at=now,
            lifetime=self._s.token_lifetime, uti=uuid.uuid4().hex[:22])
        jwt_text = sign(body, self._keyring.active)
        return IssuedToken(jwt_text, now, now, now + self._s.token_lifetime, resource, principal,
                           principal.mi_resource_id if principal.kind == "UserAssigned" else None)

    def forget(self, object_ids: set[str]) -> None:
        """Drop cached tokens of deleted principals; a mint in flight for one of them is not cached."""
        if not object_ids:
            return
        with self._lock:
            for k in [k for k in self._cache if k[0] in object_ids]:
                del self._cache[k]
            for k in [k for k in self._pending if k[0] in object_ids]:
                del self._pending[k]
