"""Bulk data for the scale figures, written straight into a fresh store before azmi starts.

Creating 10,000 identities and 100,000 role assignments through ARM would take longer than the
measurement itself; the rows are the same ones the control plane writes.
"""

from __future__ import annotations

import uuid

from azmi.domain import roles
from azmi.domain.models import USER, Principal, Resource, ResourceGroup, Subscription
from azmi.domain.rbac import Assignment
from azmi.ids import ResourceId, group_key, new_secret
from azmi.settings import DEFAULT_SUBSCRIPTION, DEFAULT_TENANT
from azmi.store import Store


def populate(db_url: str, identities: int, assignments: int) -> None:
    store = Store(db_url)
    sub, rg = DEFAULT_SUBSCRIPTION, "population"
    with store.begin() as tx:
        if tx.get_subscription(sub) is None:
            tx.insert_subscription(Subscription(sub, "azmi-subscription", DEFAULT_TENANT))
        tx.put_group(group_key(sub, rg), ResourceGroup(sub, rg, "eastus"), exists=False)
        principals = []
        for i in range(identities):
            rid = ResourceId(sub, rg, "Microsoft.ManagedIdentity", "userAssignedIdentities", f"uami-{i:06d}")
            p = Principal(str(uuid.uuid4()), str(uuid.uuid4()), rid.name, USER, rid.lower_rg_form(), 0.0)
            tx.insert_principal(p)
            tx.put_resource(Resource(rid, "eastus", principal=p, binding_key=new_secret(),
                                     identity_header=new_secret()), exists=False)
            principals.append(p.object_id)
        # Spread over subscriptions of 4,000 assignments each, the per-subscription limit Azure (and azmi) enforce.
        role_ids = [r.id for r in roles.BUILT_IN]
        per_sub = 4000
        for i in range(assignments):
            if i % per_sub == 0:
                extra_sub = str(uuid.UUID(int=0xB0000 + i // per_sub))
                tx.insert_subscription(Subscription(extra_sub, f"population-{i // per_sub}", DEFAULT_TENANT))
                tx.put_group(group_key(extra_sub, rg), ResourceGroup(extra_sub, rg, "eastus"), exists=False)
            name = str(uuid.uuid4())
            principal = principals[i % len(principals)] if principals else str(uuid.uuid4())
            role = role_ids[(i // max(len(principals), 1)) % len(role_ids)]
            target = f"/subscriptions/{extra_sub}/resourceGroups/{rg}"
            tx.insert_assignment(Assignment(f"{target}/providers/Microsoft.Authorization/roleAssignments/{name}", name,
                                            target, role, principal, "ServicePrincipal"), extra_sub)
    store.close()
