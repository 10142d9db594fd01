"""Rows <-> RBAC records: role assignments and custom role definitions."""

from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from azmi.domain.rbac import Assignment, normalize_scope
from azmi.domain.roles import Permission, RoleDefinition
from azmi.store import schema as t

_PERM_FIELDS = ("actions", "not_actions", "data_actions", "not_data_actions")


def _assignment(row) -> Assignment:  # type: ignore[no-untyped-def]
    scope = row.scope
    arm_id = f"{scope.rstrip('/')}/providers/Microsoft.Authorization/roleAssignments/{row.name}"
    return Assignment(arm_id, row.name, scope, row.role_definition_id, row.principal_id, row.principal_type,
                      row.description, row.created_on, row.created_by, row.effective_at)


def _revoked(row) -> Assignment:  # type: ignore[no-untyped-def]
    arm_id = f"{row.scope.rstrip('/')}/providers/Microsoft.Authorization/roleAssignments/{row.name}"
    return Assignment(arm_id, row.name, row.scope, row.role_definition_id, row.principal_id, row.principal_type,
                      None, row.created_on, None, 0.0, row.removed_at)


def _role(row) -> RoleDefinition:  # type: ignore[no-untyped-def]
    perms = tuple(Permission(**{f: tuple(p.get(f, ())) for f in _PERM_FIELDS}) for p in json.loads(row.permissions))
    return RoleDefinition(row.id, row.role_name, row.description, perms, built_in=False,
                          assignable_scopes=tuple(json.loads(row.assignable_scopes)), scope=row.scope)


class RbacRows:
    """Mixed into `Tx`: the role-assignment and role-definition queries."""

    c: Connection

    def insert_assignment(self, a: Assignment, subscription: str | None) -> None:
        self.c.execute(t.role_assignments.insert().values(
            name=a.name, scope=a.scope, scope_key=normalize_scope(a.scope), subscription=subscription,
            role_definition_id=a.role_definition_id, principal_id=a.principal_id, principal_type=a.principal_type,
            description=a.description, created_on=a.created_on, created_by=a.created_by,
            effective_at=a.effective_at))

    def get_assignment(self, name: str) -> Assignment | None:
        row = self.c.execute(select(t.role_assignments).where(t.role_assignments.c.name == name.lower())).first()
        return _assignment(row) if row else None

    def find_assignment(self, scope: str, role_id: str, principal_id: str) -> Assignment | None:
        row = self.c.execute(select(t.role_assignments).where(
            t.role_assignments.c.scope_key == normalize_scope(scope),
            t.role_assignments.c.role_definition_id == role_id,
            t.role_assignments.c.principal_id == principal_id)).first()
        return _assignment(row) if row else None

    def delete_assignment(self, name: str, in_force_until: float | None = None) -> None:
        """Delete; with `in_force_until`, keep it deciding (not listed) until then: propagation delay."""
        a = self.get_assignment(name)
        self.c.execute(t.role_assignments.delete().where(t.role_assignments.c.name == name.lower()))
        if a is not None and in_force_until is not None:
            self.c.execute(t.revoked_assignments.delete().where(t.revoked_assignments.c.name == a.name))
            self.c.execute(t.revoked_assignments.insert().values(
                name=a.name, scope=a.scope, role_definition_id=a.role_definition_id, principal_id=a.principal_id,
                principal_type=a.principal_type, created_on=a.created_on, removed_at=in_force_until))

    def revoked_of(self, principal_id: str, now: float) -> list[Assignment]:
        self.c.execute(t.revoked_assignments.delete().where(t.revoked_assignments.c.removed_at <= now))
        rows = self.c.execute(select(t.revoked_assignments).where(
            t.revoked_assignments.c.principal_id == principal_id))
        return [_revoked(r) for r in rows]

    def assignments_of(self, principal_id: str) -> list[Assignment]:
        rows = self.c.execute(select(t.role_assignments).where(t.role_assignments.c.principal_id == principal_id)
                              .order_by(t.role_assignments.c.created_on))
        return [_assignment(r) for r in rows]

    def all_assignments(self) -> list[Assignment]:
        rows = self.c.execute(select(t.role_assignments).order_by(t.role_assignments.c.created_on))
        return [_assignment(r) for r in rows]

    def count_assignments(self, subscription: str) -> int:
        return self.c.execute(select(func.count()).select_from(t.role_assignments).where(
            t.role_assignments.c.subscription == subscription)).scalar_one()

    def assignments_for_role(self, role_id: str) -> int:
        return self.c.execute(select(func.count()).select_from(t.role_assignments).where(
            t.role_assignments.c.role_definition_id == role_id)).scalar_one()

    def custom_roles(self) -> list[RoleDefinition]:
        return [_role(r) for r in self.c.execute(select(t.role_definitions).order_by(t.role_definitions.c.role_name))]

    def custom_role(self, role_id: str) -> RoleDefinition | None:
        row = self.c.execute(select(t.role_definitions).where(t.role_definitions.c.id == role_id.lower())).first()
        return _role(row) if row else None

    def put_custom_role(self, r: RoleDefinition, *, exists: bool) -> None:
        values = dict(scope=r.scope, role_name=r.name, description=r.description,
                      permissions=json.dumps([{f: list(getattr(p, f)) for f in _PERM_FIELDS} for p in r.permissions]),
                      assignable_scopes=json.dumps(list(r.assignable_scopes)))
        if exists:
            self.c.execute(t.role_definitions.update().where(t.role_definitions.c.id == r.id).values(**values))
        else:
            self.c.execute(t.role_definitions.insert().values(id=r.id, **values))

    def delete_custom_role(self, role_id: str) -> None:
        self.c.execute(t.role_definitions.delete().where(t.role_definitions.c.id == role_id))
