"""Azure RBAC evaluation, pure (azure-wire.md §5 "Evaluation semantics").

- An assignment applies at its scope and every scope below it (segment-wise, case-insensitive).
- A role grants an action if some permission block matches it in `actions` and not in that
  block's `notActions` (for data: `dataActions` / `notDataActions`). `notActions` subtract within
  one block; they are not a deny: another role may still grant the action.
- `*` matches any run of characters, `/` included (what Microsoft's own mapping tool does), so
  `*` in `actions` never reaches `dataActions`: the two lists are checked separately.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Iterable

from azmi.domain.roles import RoleDefinition


@dataclass(frozen=True)
class Assignment:
    id: str  # the full ARM id of the assignment
    name: str  # GUID
    scope: str  # as given, e.g. /subscriptions/x/resourceGroups/y
    role_definition_id: str  # GUID of the role
    principal_id: str
    principal_type: str = "ServicePrincipal"
    description: str | None = None
    created_on: float = 0.0
    created_by: str | None = None
    effective_at: float = 0.0  # created_on + propagation delay
    removed_at: float | None = None  # deleted, but still in force until then (propagation delay)

    def in_force(self, now: float) -> bool:
        return self.effective_at <= now and (self.removed_at is None or now < self.removed_at)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    assignment: Assignment | None = None


def normalize_scope(scope: str) -> str:
    return "/" + "/".join(s for s in scope.lower().split("/") if s)


def scope_covers(assignment_scope: str, target_scope: str) -> bool:
    outer, inner = normalize_scope(assignment_scope), normalize_scope(target_scope)
    return outer == "/" or inner == outer or inner.startswith(outer + "/")


@lru_cache(maxsize=4096)
def _pattern(glob: str) -> re.Pattern[str]:
    # A whole-segment `/*/` also matches zero segments: Managed Identity Operator's
    # `userAssignedIdentities/*/assign/action` grants `userAssignedIdentities/assign/action` (azure-wire.md §5).
    text = re.escape(glob).replace("/\\*/", "/(?:.*/)?").replace("\\*", ".*")
    return re.compile("^" + text + "$", re.IGNORECASE)


def action_matches(glob: str, action: str) -> bool:
    return bool(_pattern(glob).match(action))


def role_grants(role: RoleDefinition, action: str, *, data: bool) -> bool:
    for p in role.permissions:
        allow, deny = (p.data_actions, p.not_data_actions) if data else (p.actions, p.not_actions)
        if any(action_matches(g, action) for g in allow) and not any(action_matches(g, action) for g in deny):
            return True
    return False


def decide(assignments: Iterable[Assignment], roles: Callable[[str], RoleDefinition | None], action: str,
           scope: str, *, data: bool, now: float = 0.0) -> Decision:
    """Allowed if any assignment in force at or above `scope` has a role that grants `action`."""
    for a in assignments:
        if not a.in_force(now) or not scope_covers(a.scope, scope):
            continue
        role = roles(a.role_definition_id)
        if role is not None and role_grants(role, action, data=data):
            return Decision(True, a)
    return Decision(False)
