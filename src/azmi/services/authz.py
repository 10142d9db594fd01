"""Authorization decisions, served from memory.

The assignments of a principal and the custom roles are read from the store once and kept;
any change to assignments or roles evicts them (on this node now, on other nodes through the
store's change feed). A decision is then pure `domain.rbac.decide` over a short list, and is
itself kept (per principal, action, scope) until the next instant one of the principal's
assignments comes into or goes out of force (propagation delay), or until an eviction.
"""

from __future__ import annotations

import math
import threading
from typing import Callable

from azmi.clock import Clock
from azmi.domain import roles as builtin
from azmi.domain.rbac import Assignment, Decision, decide
from azmi.domain.roles import RoleDefinition
from azmi.errors import Forbidden
from azmi.store import Store

MAX_DECISIONS = 100_000
DecisionKey = tuple[str, str, bool]  # (action, scope, data)


class Authorizer:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._lock = threading.Lock()
        self._by_principal: dict[str, tuple[Assignment, ...]] = {}
        self._custom: dict[str, RoleDefinition] | None = None
        # principal -> (action, scope, data) -> (decision, valid from, valid until)
        self._decisions: dict[str, dict[DecisionKey, tuple[Decision, float, float]]] = {}
        self._size = 0
        self._generation = 0  # bumped by every eviction: what was read before one is not kept after it
        self.publish: Callable[[str | None, bool], None] | None = None  # tells other nodes (the change feed)

    def role(self, role_id: str) -> RoleDefinition | None:
        found = builtin.BY_ID.get(role_id.lower())
        if found is not None:
            return found
        custom = self._custom
        if custom is None:
            generation = self._generation
            with self._store.begin() as tx:
                custom = {r.id: r for r in tx.custom_roles()}
            with self._lock:
                if self._generation == generation:  # no role changed while we read
                    self._custom = custom
        return custom.get(role_id.lower())

    def assignments(self, principal_id: str) -> tuple[Assignment, ...]:
        hit = self._by_principal.get(principal_id)
        if hit is not None:
            return hit
        generation = self._generation
        with self._store.begin() as tx:
            found = tuple(tx.assignments_of(principal_id)) + tuple(tx.revoked_of(principal_id, self._clock.now()))
        with self._lock:
            if self._generation == generation:  # no grant or revoke happened while we read
                self._by_principal[principal_id] = found
        return found

    def decide(self, principal_id: str, action: str, scope: str, *, data: bool) -> Decision:
        now = self._clock.now()
        key = (action, scope, data)
        mine = self._decisions.get(principal_id)
        hit = mine.get(key) if mine is not None else None
        if hit is not None and hit[1] <= now < hit[2]:
            return hit[0]
        generation = self._generation
        assignments = self.assignments(principal_id)
        custom = [a.role_definition_id for a in assignments if a.role_definition_id not in builtin.BY_ID]
        if custom and self._custom is None:
            self.role(custom[0])
        # Both caches are now warm, so a decision made again inside a store transaction (the linked
        # `assign/action` check while a resource is written) does not open a nested one.
        decision = decide(assignments, self.role, action, scope, data=data, now=now)
        until = min((t for a in assignments for t in (a.effective_at, a.removed_at) if t is not None and t > now),
                    default=math.inf)  # the next instant an assignment comes into or goes out of force
        with self._lock:
            if self._generation == generation:
                if self._size >= MAX_DECISIONS:
                    self._decisions.clear()
                    self._size = 0
                kept = self._decisions.setdefault(principal_id, {})
                self._size += key not in kept
                kept[key] = (decision, now, until)
        return decision

    def evict(self, principal_id: str | None = None, roles: bool = False, publish: bool = True) -> None:
        if publish and self.publish is not None:
            self.publish(principal_id, roles)
        with self._lock:
            self._generation += 1
            if principal_id is None:
                self._by_principal.clear()
            else:
                self._by_principal.pop(principal_id, None)
            if roles:
                self._custom = None
            if principal_id is None or roles:  # a role's permissions change decisions of every principal
                self._decisions.clear()
                self._size = 0
            else:
                self._size -= len(self._decisions.pop(principal_id, {}))


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
