"""Role assignments and role definitions: the `Microsoft.Authorization` use cases.

Azure's rules kept here: the same principal + role + scope under another name is
`409 RoleAssignmentExists`; an unknown principal is `400 PrincipalNotFound`; an assignment
cannot be changed, only deleted; an assignment outlives its principal (an orphan); a custom
role with assignments cannot be deleted; at most 4000 assignments per subscription.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from azmi.clock import Clock
from azmi.domain import roles as builtin
from azmi.domain.rbac import Assignment, normalize_scope, scope_covers
from azmi.domain.roles import Permission, RoleDefinition
from azmi.errors import Conflict, InvalidInput, LimitExceeded, NotFound
from azmi.ids import check_guid, group_key, is_guid, parse_scope
from azmi.services.authz import Authorizer
from azmi.store import Store
from azmi.store.sql import Tx

ASSIGNMENTS_PER_SUBSCRIPTION = 4000
_ROLE_ID = re.compile(r"^(?:/subscriptions/[^/]+)?/providers/Microsoft\.Authorization/roleDefinitions/([0-9a-fA-F-]{36})$",
                      re.IGNORECASE)
_FILTERS = re.compile(r"^\s*(atScope\(\)|principalId\s+eq\s+'([^']*)'|assignedTo\('([^']*)'\))\s*$", re.IGNORECASE)
PRINCIPAL_TYPES = ("User", "Group", "ServicePrincipal", "ForeignGroup", "Device")


def same_scope(a: str, b: str) -> bool:
    return normalize_scope(a) == normalize_scope(b)


def role_guid(role_definition_id: str) -> str:
    m = _ROLE_ID.match(role_definition_id.strip()) if isinstance(role_definition_id, str) else None
    if m is None or not is_guid(m.group(1)):
        raise InvalidInput(f"The role definition ID '{role_definition_id}' is not valid.",
                           code="InvalidRoleDefinitionId")
    return m.group(1).lower()


class RoleService:
    def __init__(self, store: Store, clock: Clock, authorizer: Authorizer, tenant_id: str,
                 propagation_delay: int = 0) -> None:
        """`propagation_delay`: seconds before a created or deleted assignment takes effect, as in Azure."""
        self._delay = propagation_delay
        self._store = store
        self._clock = clock
        self._authz = authorizer
        self._tenant = tenant_id

    # -- scopes ----------------------------------------------------------------------------------------------
    def _check_scope(self, tx: Tx, scope_text: str) -> Any:
        scope = parse_scope(scope_text)
        if scope.subscription and tx.get_subscription(scope.subscription) is None:
            raise NotFound(f"The subscription '{scope.subscription}' could not be found.", code="SubscriptionNotFound")
        if scope.resource_group and tx.get_group(group_key(scope.subscription or "", scope.resource_group)) is None:
            raise NotFound(f"Resource group '{scope.resource_group}' could not be found.", code="ResourceGroupNotFound")
        if scope.resource and tx.get_resource(scope.resource.key) is None:
            raise NotFound(f"The Resource '{scope.resource.full_type}/{scope.resource.name}' under resource group "
                           f"'{scope.resource_group}' was not found.", code="ResourceNotFound")
        return scope

    # -- assignments -----------------------------------------------------------------------------------------
    def create_assignment(self, scope_text: str, name: str, body: Any, created_by: str | None) -> tuple[Assignment, bool]:
        name = check_guid(name, "role assignment name")
        props = body.get("properties") if isinstance(body, dict) else None
        if not isinstance(props, dict):
            raise InvalidInput("The request content was invalid: 'properties' is required.", code="InvalidRequestContent")
        role_id = role_guid(props.get("roleDefinitionId", ""))
        principal_id = props.get("principalId")
        if not isinstance(principal_id, str) or not is_guid(principal_id):
            raise InvalidInput(f"The principal ID '{principal_id}' is not valid.", code="InvalidPrincipalId")
        principal_id = principal_id.lower()
        ptype = props.get("principalType")
        if ptype is not None and ptype not in PRINCIPAL_TYPES:
            raise InvalidInput(f"The principal type '{ptype}' is not valid.", code="InvalidPrincipalType")
        description = props.get("description")
        if description is not None and (not isinstance(description, str) or len(description) > 2048):
            raise InvalidInput("The description must be a string of at most 2 KB.", code="InvalidRequestContent")
        known_role = self._authz.role(role_id) is not None  # outside the transaction: it may read the store
        with self._store.begin() as tx:
            tx.lock_control_plane()
            scope = self._check_scope(tx, scope_text)
            if not known_role:
                raise InvalidInput(f"The specified role definition with ID '{role_id}' does not exist.",
                                   code="RoleDefinitionDoesNotExist")
            principal = tx.get_principal(principal_id)
            if principal is None:
                raise InvalidInput(
                    f"Principal {principal_id.replace('-', '')} does not exist in the directory {self._tenant}. Check "
                    "that you have the correct principal ID. If you are creating this principal and then immediately "
                    "assigning a role, this error might be related to a replication delay. In this case, set the role "
                    "assignment principalType property to a value, such as ServicePrincipal, User, or Group.  See "
                    "https://aka.ms/docs-principaltype", code="PrincipalNotFound")
            ptype = ptype or ("User" if principal.kind == "User" else "ServicePrincipal")  # the directory's type
            existing = tx.get_assignment(name)
            if existing is not None:
                same = (existing.principal_id == principal_id and existing.role_definition_id == role_id
                        and same_scope(existing.scope, scope.text))
                if not same:
                    raise InvalidInput("Tenant ID, application ID, principal ID, and scope are not allowed to be "
                                       "updated.", code="RoleAssignmentUpdateNotPermitted")
                return existing, False
            if tx.find_assignment(scope.text, role_id, principal_id) is not None:
                raise Conflict("The role assignment already exists.", code="RoleAssignmentExists")
            if scope.subscription and tx.count_assignments(scope.subscription) >= ASSIGNMENTS_PER_SUBSCRIPTION:
                raise LimitExceeded("No more role assignments can be created.", code="RoleAssignmentLimitExceeded")
            arm_id = f"{scope.text.rstrip('/')}/providers/Microsoft.Authorization/roleAssignments/{name}"
            now = self._clock.now()
            a = Assignment(arm_id, name, scope.text, role_id, principal_id, ptype, description, now, created_by,
                           effective_at=now + self._delay)
            tx.insert_assignment(a, scope.subscription)
        self._authz.evict(principal_id)
        return a, True

    def get_assignment(self, scope_text: str, name: str) -> Assignment:
        with self._store.begin() as tx:
            a = tx.get_assignment(name) if is_guid(name) else None
        if a is None or not same_scope(a.scope, scope_text):
            raise NotFound(f"The role assignment '{name}' is not found.", code="RoleAssignmentNotFound")
        return a

    def delete_assignment(self, scope_text: str, name: str) -> Assignment | None:
        with self._store.begin() as tx:
            tx.lock_control_plane()
            a = tx.get_assignment(name) if is_guid(name) else None
            if a is None or not same_scope(a.scope, scope_text):
                return None
            tx.delete_assignment(a.name, self._clock.now() + self._delay if self._delay else None)
        self._authz.evict(a.principal_id)
        return a

    def list_assignments(self, scope_text: str, filter_text: str | None) -> list[Assignment]:
        at_scope, principal = False, None
        for clause in re.split(r"\s+and\s+", filter_text or "", flags=re.IGNORECASE) if filter_text else []:
            m = _FILTERS.match(clause)
            if m is None:
                raise InvalidInput(f"The filter '{filter_text}' is not supported. Supported filters are atScope(), "
                                   "principalId eq '{id}' and assignedTo('{id}').", code="UnsupportedQuery")
            if m.group(1).lower() == "atscope()":
                at_scope = True
            else:
                principal = (m.group(2) or m.group(3) or "").lower()
        with self._store.begin() as tx:
            scope = self._check_scope(tx, scope_text)
            found = tx.assignments_of(principal) if principal else tx.all_assignments()
        above = [a for a in found if scope_covers(a.scope, scope.text)]
        below = [] if at_scope else [a for a in found if scope_covers(scope.text, a.scope) and a not in above]
        return above + below

    def grant_owner(self, principal_id: str, scope: str) -> None:
        """Make sure `principal_id` holds Owner at `scope` (the operator on each subscription)."""
        with self._store.begin() as tx:
            tx.lock_control_plane()
            if tx.find_assignment(scope, builtin.OWNER.id, principal_id) is None:
                name = str(uuid.uuid5(uuid.NAMESPACE_URL, f"azmi-owner:{scope.lower()}:{principal_id}"))
                arm_id = f"{scope.rstrip('/')}/providers/Microsoft.Authorization/roleAssignments/{name}"
                tx.insert_assignment(Assignment(arm_id, name, scope, builtin.OWNER.id, principal_id, "User",
                                                "azmi operator", self._clock.now(), None),
                                     parse_scope(scope).subscription)
        self._authz.evict(principal_id)

    # -- role definitions ------------------------------------------------------------------------------------
    def get_role(self, role_id: str) -> RoleDefinition:
        role = self._authz.role(role_id) if is_guid(role_id) else None
        if role is None:
            raise NotFound(f"The role definition '{role_id}' could not be found.", code="RoleDefinitionDoesNotExist")
        return role

    def list_roles(self, scope_text: str, filter_text: str | None) -> list[RoleDefinition]:
        with self._store.begin() as tx:
            scope = self._check_scope(tx, scope_text)
            custom = [r for r in tx.custom_roles() if any(scope_covers(s, scope.text) or scope_covers(scope.text, s)
                                                          for s in r.assignable_scopes)]
        every = list(builtin.BUILT_IN) + custom
        if filter_text:
            m = re.match(r"^\s*roleName\s+eq\s+'(.*)'\s*$", filter_text, re.IGNORECASE)
            t = re.match(r"^\s*type\s+eq\s+'(BuiltInRole|CustomRole)'\s*$", filter_text, re.IGNORECASE)
            if m:
                every = [r for r in every if r.name.lower() == m.group(1).lower()]
            elif t:
                every = [r for r in every if r.built_in == (t.group(1).lower() == "builtinrole")]
            else:
                raise InvalidInput(f"The filter '{filter_text}' is not supported.", code="UnsupportedQuery")
        return every

    def put_role(self, scope_text: str, role_id: str, body: Any) -> tuple[RoleDefinition, bool]:
        role_id = check_guid(role_id, "role definition id")
        if role_id in builtin.BY_ID:
            raise InvalidInput("Built-in roles cannot be changed.", code="RoleDefinitionUpdateNotPermitted")
        props = body.get("properties") if isinstance(body, dict) else None
        if not isinstance(props, dict) or not isinstance(props.get("roleName"), str) or not props["roleName"].strip():
            raise InvalidInput("The role definition needs 'properties.roleName'.", code="InvalidRoleDefinition")
        perms_in = props.get("permissions")
        if not isinstance(perms_in, list) or not perms_in:
            raise InvalidInput("The role definition needs at least one permission.", code="InvalidRoleDefinition")
        perms = []
        for p in perms_in:
            if not isinstance(p, dict):
                raise InvalidInput("Each permission must be an object.", code="InvalidRoleDefinition")
            lists = {k: p.get(k) or [] for k in ("actions", "notActions", "dataActions", "notDataActions")}
            if not all(isinstance(v, list) and all(isinstance(x, str) and x for x in v) for v in lists.values()):
                raise InvalidInput("Permission lists must be lists of action strings.", code="InvalidActionOrNotAction")
            perms.append(Permission(tuple(lists["actions"]), tuple(lists["notActions"]), tuple(lists["dataActions"]),
                                    tuple(lists["notDataActions"])))
        scopes = props.get("assignableScopes") or [scope_text]
        with self._store.begin() as tx:
            tx.lock_control_plane()
            for s in scopes:
                self._check_scope(tx, s)
            old = tx.custom_role(role_id)
            clash = [r for r in tx.custom_roles() if r.name.lower() == props["roleName"].lower() and r.id != role_id]
            if clash or props["roleName"].lower() in builtin.BY_NAME:
                raise Conflict("A role definition cannot be updated with a name that already exists.",
                               code="RoleDefinitionWithSameNameExists")
            role = RoleDefinition(role_id, props["roleName"], str(props.get("description") or ""), tuple(perms),
                                  built_in=False, assignable_scopes=tuple(parse_scope(s).text for s in scopes),
                                  scope=parse_scope(scope_text).text)
            tx.put_custom_role(role, exists=old is not None)
        self._authz.evict(roles=True)
        return role, old is None

    def delete_role(self, role_id: str) -> RoleDefinition | None:
        with self._store.begin() as tx:
            tx.lock_control_plane()
            role = tx.custom_role(role_id) if is_guid(role_id) else None
            if role is None:
                return None
            if tx.assignments_for_role(role.id):
                raise InvalidInput("There are existing role assignments referencing role.",
                                   code="RoleDefinitionHasAssignments")
            tx.delete_custom_role(role.id)
        self._authz.evict(roles=True)
        return role
