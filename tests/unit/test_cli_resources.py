"""Resource kinds, ids and az's view of ARM resources."""

from __future__ import annotations

from azmi.cli.resources import FUNCTIONAPP, UAMI, VM, WEBAPP, az_view, parse_resource_id


def test_paths() -> None:
    assert VM.collection_path("s") == "/subscriptions/s/providers/Microsoft.Compute/virtualMachines"
    assert UAMI.collection_path("s", "rg") == \
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities"


def test_parse_resource_id_any_case() -> None:
    rid = "/subscriptions/S/resourcegroups/RG/providers/Microsoft.Web/sites/app1"
    assert parse_resource_id(rid) == {"subscription": "S", "resource_group": "RG", "namespace": "Microsoft.Web",
                                      "type": "sites", "name": "app1"}


def test_webapp_and_functionapp_lists_split_on_kind() -> None:
    app, fn, linux_fn = {"kind": "app"}, {"kind": "functionapp"}, {"kind": "functionapp,linux"}
    assert [WEBAPP.matches(x) for x in (app, fn, linux_fn)] == [True, False, False]
    assert [FUNCTIONAPP.matches(x) for x in (app, fn, linux_fn)] == [False, True, True]
    assert VM.matches({"kind": "functionapp"})


def test_view_flattens_properties_and_adds_resource_group() -> None:
    uami = {"id": "/subscriptions/s/resourcegroups/rg1/providers/Microsoft.ManagedIdentity/userAssignedIdentities/i",
            "name": "i", "properties": {"clientId": "c", "principalId": "p", "tenantId": "t", "name": "ignored"}}
    view = az_view(uami)
    assert view["clientId"] == "c" and view["name"] == "i" and view["resourceGroup"] == "rg1"
    assert "properties" not in view


def test_view_adds_resource_group_to_nested_ids_only_under_providers() -> None:
    vm = {"id": "/subscriptions/s/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachines/v",
          "properties": {"networkProfile": {"networkInterfaces": [
              {"id": "/subscriptions/s/resourceGroups/net/providers/Microsoft.Network/networkInterfaces/n"}]}}}
    view = az_view(vm)
    assert view["networkProfile"]["networkInterfaces"][0]["resourceGroup"] == "net"
    assert "resourceGroup" not in az_view({"id": "/subscriptions/s/resourceGroups/rg1"})
