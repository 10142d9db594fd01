"""`azmi container`, as `az container` (container groups, Microsoft.ContainerInstance).

az has `--assign-identity` on `container create` but no `identity` subgroup; azmi adds
`container identity assign|remove|show` for symmetry with vm and webapp.
"""

from __future__ import annotations

from typing import Any

import click

from azmi.cli.common import az_command, name_option, parse_tags, rg_option
from azmi.cli.context import Session
from azmi.cli.resource_commands import (add_identity_commands, add_read_commands, assign_identity_option,
                                        create_resource)
from azmi.cli.resources import CONTAINER, az_view


def container_group_body(name: str, image: str, cpu: float, memory: float, os_type: str,
                         restart_policy: str, tags: dict[str, str]) -> dict[str, Any]:
    return {
        "tags": tags,
        "properties": {
            "containers": [{"name": name, "properties": {
                "image": image, "resources": {"requests": {"cpu": cpu, "memoryInGB": memory}}}}],
            "osType": os_type,
            "restartPolicy": restart_policy,
        },
    }


@click.group("container", help="Manage Azure Container Instances.")
def container() -> None:
    pass


@az_command(container, "create", help="Create a container group.")
@rg_option()
@name_option(help="The name of the container group.")
@click.option("--image", required=True, help="The container image name.")
@click.option("--cpu", type=float, default=1.0, show_default=True)
@click.option("--memory", type=float, default=1.5, show_default=True, help="Memory in GB.")
@click.option("--os-type", type=click.Choice(["Linux", "Windows"], case_sensitive=False), default="Linux")
@click.option("--restart-policy", type=click.Choice(["Always", "OnFailure", "Never"], case_sensitive=False),
              default="Always")
@click.option("-l", "--location", help="Location. Default: the resource group's location.")
@click.option("--tags", multiple=True, help="Space-separated tags: key[=value].")
@assign_identity_option()
@click.option("--role", hidden=True)
@click.option("--scope", hidden=True)
@click.option("--ports", hidden=True)
@click.option("--ip-address", hidden=True)
@click.option("--no-wait", is_flag=True, hidden=True)
def create(sess: Session, resource_group: str, name: str, image: str, cpu: float, memory: float, os_type: str,
           restart_policy: str, location: str | None, tags: tuple[str, ...], assign_identity: tuple[str, ...],
           **_ignored: Any) -> Any:
    body = container_group_body(name, image, cpu, memory, os_type.capitalize(),
                                {"onfailure": "OnFailure"}.get(restart_policy.lower(), restart_policy.capitalize()),
                                parse_tags(tags))
    return az_view(create_resource(sess, CONTAINER, resource_group, name, location, body, assign_identity or None))


add_read_commands(container, CONTAINER, confirm_delete=True)
add_identity_commands(container, CONTAINER)
