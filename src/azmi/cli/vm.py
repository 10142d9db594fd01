"""`azmi vm`: create/list/show/delete and identity assign|remove|show, as `az vm`.

`vm create` prints az's summary (`get_vm_details`): id, resourceGroup, location, powerState,
network fields (empty here: azmi emulates no network) and, with `--assign-identity`, the
`_construct_identity_info` block.
"""

from __future__ import annotations

from typing import Any

import click

from azmi.cli.common import az_command, name_option, parse_tags, rg_option
from azmi.cli.context import Session
from azmi.cli.identity_ops import vm_identity_summary
from azmi.cli.resource_commands import (add_identity_commands, add_read_commands, assign_identity_option,
                                        create_resource)
from azmi.cli.resources import VM

DEFAULT_IMAGE = "Ubuntu2204"
DEFAULT_SIZE = "Standard_DS1_v2"

# az's image aliases (a subset of azure-cli's `aliases.json`)
IMAGE_ALIASES: dict[str, dict[str, str]] = {
    "ubuntu2204": {"publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy",
                   "sku": "22_04-lts-gen2", "version": "latest"},
    "ubuntu2404": {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"},
    "debian11": {"publisher": "Debian", "offer": "debian-11", "sku": "11-backports-gen2", "version": "latest"},
    "debian12": {"publisher": "Debian", "offer": "debian-12", "sku": "12-gen2", "version": "latest"},
    "rhel": {"publisher": "RedHat", "offer": "RHEL", "sku": "8-lvm-gen2", "version": "latest"},
    "win2022datacenter": {"publisher": "MicrosoftWindowsServer", "offer": "WindowsServer",
                          "sku": "2022-Datacenter", "version": "latest"},
    "win2019datacenter": {"publisher": "MicrosoftWindowsServer", "offer": "WindowsServer",
                          "sku": "2019-Datacenter", "version": "latest"},
}


def image_reference(image: str) -> dict[str, str]:
    """An az `--image`: alias, URN `publisher:offer:sku:version`, or an image resource id."""
    alias = IMAGE_ALIASES.get(image.lower())
    if alias:
        return dict(alias)
    parts = image.split(":")
    if len(parts) == 4:
        return dict(zip(("publisher", "offer", "sku", "version"), parts))
    if image.startswith("/"):
        return {"id": image}
    raise click.BadParameter(f"Invalid image \"{image}\". Use a valid image URN, custom image name, "
                             "custom image id, VHD blob URI, or pick an image from "
                             f"{sorted(a for a in IMAGE_ALIASES)}.", param_hint="'--image'")


def vm_body(name: str, image: str, size: str, admin_username: str, tags: dict[str, str]) -> dict[str, Any]:
    return {
        "tags": tags,
        "properties": {
            "hardwareProfile": {"vmSize": size},
            "storageProfile": {"imageReference": image_reference(image)},
            "osProfile": {"computerName": name[:15], "adminUsername": admin_username},
        },
    }


def vm_create_summary(vm: dict[str, Any], resource_group: str, with_identity: bool) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "fqdns": "", "id": vm.get("id"), "location": vm.get("location"), "macAddress": "",
        "powerState": "VM running", "privateIpAddress": "", "publicIpAddress": "",
        "resourceGroup": resource_group, "zones": ",".join(vm.get("zones") or []),
    }
    if with_identity:
        summary["identity"] = vm_identity_summary(vm.get("identity"))
    return summary


def transform_vm_list(vms: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for vm in vms:
        row = {"name": vm.get("name"), "resourceGroup": vm.get("resourceGroup")}
        if "powerState" in vm:
            row["powerState"] = vm["powerState"]
        row["location"] = vm.get("location")
        row["zones"] = ",".join(vm.get("zones") or [])
        rows.append(row)
    return rows


@click.group("vm", help="Manage Linux or Windows virtual machines.")
def vm() -> None:
    pass


@az_command(vm, "create", help="Create an Azure Virtual Machine.")
@rg_option()
@name_option(help="Name of the virtual machine.")
@click.option("--image", default=DEFAULT_IMAGE, show_default=True, help="The name of the operating system image.")
@click.option("--size", default=DEFAULT_SIZE, show_default=True, help="The VM size to be created.")
@click.option("-l", "--location", help="Location. Default: the resource group's location.")
@click.option("--admin-username", default="azureuser", show_default=True)
@click.option("--tags", multiple=True, help="Space-separated tags: key[=value].")
@assign_identity_option()
@click.option("--role", hidden=True)
@click.option("--scope", hidden=True)
@click.option("--admin-password", hidden=True)
@click.option("--authentication-type", hidden=True)
@click.option("--generate-ssh-keys", is_flag=True, hidden=True)
@click.option("--ssh-key-values", hidden=True)
@click.option("--public-ip-address", hidden=True)
@click.option("--public-ip-sku", hidden=True)
@click.option("--nsg", hidden=True)
@click.option("--no-wait", is_flag=True, hidden=True)
def create(sess: Session, resource_group: str, name: str, image: str, size: str, location: str | None,
           admin_username: str, tags: tuple[str, ...], assign_identity: tuple[str, ...], **_ignored: Any) -> Any:
    body = vm_body(name, image, size, admin_username, parse_tags(tags))
    created = create_resource(sess, VM, resource_group, name, location, body, assign_identity or None)
    return vm_create_summary(created, resource_group, bool(assign_identity))


add_read_commands(vm, VM, confirm_delete=True, list_table=transform_vm_list)
add_identity_commands(vm, VM)
