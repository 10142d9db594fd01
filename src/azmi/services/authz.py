"""Authorization decisions, served from memory.

The assignments of a principal and the custom roles are read from the store once and kept;
any change to assignments or roles evicts them (on this node now, on other nodes through the
store's change feed later). A decision is then pure `domain.rbac.decide` over a short list.
"""

from __future__ import annotations

import threading
from typing import Callable

from azmi.clock import Clock
from azmi.domain import roles as builtin
from azmi.domain.rbac import Assignment, Decision, decide
from azmi.domain.roles import RoleDefinition
from azmi.errors import Forbidden
from azmi.store import Store


class Authorizer:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._lock = threading.Lock()
        self._by_principal: dict[str, tuple[Assignment, ...]] = {}
        self._custom: dict[str, RoleDefinition] | None = None
        self.publish: Callable[[str | None, bool], None] | None = None  # tells other nodes (the change feed)

    def role(self, role_id: str) -> RoleDefinition | None:
        found = builtin.BY_ID.get(role_id.lower())
        if found is not None:
            return found
        if self._custom is None:
            with self._store.begin() as tx:
                custom = {r.id: r for r in tx.custom_roles()}
            with self._lock:
                self._custom = custom
        return self._custom.get(role_id.lower())

    def assignments(self, principal_id: str) -> tuple[Assignment, ...]:
        hit = self._by_principal.get(principal_id)
        if hit is not None:
            return hit
        with self._store.begin() as tx:
            found = tuple(tx.assignments_of(principal_id)) + tuple(tx.revoked_of(principal_id, self._clock.now()))
        with self._lock:
            self._by_principal[principal_id] = found
        return found

    def decide(self, principal_id: str, action: str, scope: str, *, data: bool) -> Decision:
        assignments = self.assignments(principal_id)
        custom = [a.role_definition_id for a in assignments if a.role_definition_id not in builtin.BY_ID]
        if custom and self._custom is None:
            self.role(custom[0])
        # Both caches are now warm, so a decision made again inside a store transaction (the linked
        # `assign/action` check while a resource is written) does not open a nested one.
        return decide(assignments, self.role, action, scope, data=data, now=self._clock.now())

    def evict(self, principal_id: str | None = None, roles: bool = False, publish: bool = True) -> None:
        if publish and self.publish is not None:
            self.publish(principal_id, roles)
        with self._lock:
            if principal_id is None:
                self._by_principal.clear()
            else:
                self._by_principal.pop(principal_id, None)
            if roles:
                self._custom = None


class Caller:
    """The authenticated principal of one ARM request, and what it may do."""

    def __init__(self, claims: dict[str, object], authorizer: Authorizer, operator_id: str) -> None:
        self.claims = claims
        self.object_id = str(claims.get("oid", ""))
        self.is_operator = self.object_id == operator_id
        self._authz = authorizer

    def can(self, action: str, scope: str) -> bool:
        return self._authz.decide(self.object_id, action, scope, data=False).allowed

    def require(self, action: str, scope: str) -> None:
        if not self.can(action, scope):
            raise Forbidden(
                f"The client '{self.name}' with object id '{self.object_id}' does not have authorization to perform "
                f"action '{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, "
                "please refresh your credentials.", code="AuthorizationFailed")

    def require_linked(self, action: str, scope: str, primary_action: str, primary_scope: str) -> None:
        if not self.can(action, scope):
            raise Forbidden(
                f"The client '{self.name}' with object id '{self.object_id}' has permission to perform action "
                f"'{primary_action}' on scope '{primary_scope}'; however, it does not have permission to perform "
                f"action(s) '{action}' on the linked scope(s) '{scope}' (respectively) or the linked scope(s) are "
                "invalid.", code="LinkedAuthorizationFailed")

    def require_operator(self) -> None:
        if not self.is_operator:
            raise Forbidden(f"The client '{self.name}' with object id '{self.object_id}' is not the azmi operator; "
                            "only the operator may use this endpoint.", code="AuthorizationFailed")

    @property
    def name(self) -> str:
        return str(self.claims.get("upn") or self.object_id)
