"""Commands end to end through Click, against a recording fake of the ARM client."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from azmi.cli.context import Endpoints, Session
from azmi.cli.errors import CliError
from azmi.cli.main import cli

SUB = "00000000-0000-0000-0000-000000000001"
ID1 = f"/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1"
VM1 = f"/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachines/vm1"


class FakeArm:
    def __init__(self) -> None:
        self.endpoints = Endpoints(arm="https://arm", login="https://login", tenant_id="t", subscription_id=SUB)
        self.calls: list[tuple[str, str, Any]] = []
        self.resources: dict[str, dict[str, Any]] = {
            f"/subscriptions/{SUB}/resourcegroups/rg1": {"name": "rg1", "location": "westus"},
            VM1: {"id": VM1, "name": "vm1", "location": "westus", "identity": {"type": "SystemAssigned",
                                                                             "principalId": "sp"}},
        }

    def resolve_subscription(self, value: str | None) -> str:
        return value or SUB

    def get(self, path: str, api_version: str | None, **kw: Any) -> Any:
        self.calls.append(("GET", path, kw.get("params")))
        if path == "/azmi/environment":
            return {"set": {"IDENTITY_ENDPOINT": "http://x/'y'"}, "unset": ["MSI_SECRET"]}
        if path not in self.resources:
            raise CliError("(ResourceNotFound) not found", exit_code=3)
        return json.loads(json.dumps(self.resources[path]))

    def put(self, path: str, api_version: str, body: Any) -> Any:
        self.calls.append(("PUT", path, body))
        resource = {"id": path, "name": path.rsplit("/", 1)[-1], **json.loads(json.dumps(body))}
        identity = resource.get("identity")
        if identity and "SystemAssigned" in identity["type"]:
            identity["principalId"] = "new-sp"
        self.resources[path] = resource
        return resource

    def patch(self, path: str, api_version: str, body: Any) -> Any:
        self.calls.append(("PATCH", path, body))
        resource = self.resources[path]
        resource["identity"] = {**body["identity"], "principalId": "sp",
                                "userAssignedIdentities": {k: {"clientId": "c", "principalId": "p"}
                                                           for k in body["identity"].get("userAssignedIdentities", {})}}
        return resource

    def delete(self, path: str, api_version: str) -> None:
        self.calls.append(("DELETE", path, None))

    def list(self, path: str, api_version: str) -> list[Any]:
        return [{"name": "a", "kind": "app", "location": "l"}, {"name": "f", "kind": "functionapp", "location": "l"}]

    def request(self, method: str, path: str, api_version: str | None = None, **kw: Any) -> tuple[int, Any]:
        return (204 if path in self.resources else 404), None


@pytest.fixture
def arm(monkeypatch: pytest.MonkeyPatch) -> FakeArm:
    fake = FakeArm()
    monkeypatch.setattr(Session, "arm", lambda self: fake)
    return fake


def invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, ["--data-dir", "/nonexistent", *args])


def test_not_running_message(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "group", "list"])
    assert result.exit_code == 1
    assert result.stderr == f"ERROR: azmi is not running (no endpoints in {tmp_path}). Start it with: azmi up\n"


def test_vm_identity_assign_by_name_patches_and_prints_az_summary(arm: FakeArm) -> None:
    result = invoke("vm", "identity", "assign", "-g", "rg1", "-n", "vm1", "--identities", "id1")
    assert result.exit_code == 0, result.output
    assert arm.calls[-1] == ("PATCH", VM1, {"identity": {"type": "SystemAssigned, UserAssigned",
                                                         "userAssignedIdentities": {ID1: {}}}})
    assert json.loads(result.stdout) == {"systemAssignedIdentity": "sp",
                                         "userAssignedIdentities": {ID1: {"clientId": "c", "principalId": "p"}}}


def test_vm_create_bare_assign_identity_uses_group_location(arm: FakeArm) -> None:
    result = invoke("vm", "create", "-g", "rg1", "-n", "vm2", "--assign-identity", "--tags", "a=1", "b")
    assert result.exit_code == 0, result.output
    _, _, body = arm.calls[-1]
    assert body["location"] == "westus" and body["tags"] == {"a": "1", "b": ""}
    assert body["identity"] == {"type": "SystemAssigned"}
    assert json.loads(result.stdout)["identity"]["systemAssignedIdentity"] == "new-sp"


def test_identity_show_query_tsv_prints_bare_value(arm: FakeArm) -> None:
    arm.resources[ID1] = {"id": ID1, "name": "id1", "properties": {"clientId": "the-client-id"}}
    result = invoke("identity", "show", "-g", "rg1", "-n", "id1", "--query", "clientId", "-o", "tsv")
    assert (result.exit_code, result.stdout) == (0, "the-client-id\n")


def test_webapp_list_filters_function_apps(arm: FakeArm) -> None:
    assert invoke("webapp", "list", "--query", "[].name", "-o", "tsv").stdout == "a\n"
    assert invoke("functionapp", "list", "--query", "[].name", "-o", "tsv").stdout == "f\n"


def test_identity_show_on_resource_without_identity_prints_nothing(arm: FakeArm) -> None:
    arm.resources[VM1].pop("identity")
    result = invoke("vm", "identity", "show", "-g", "rg1", "-n", "vm1")
    assert (result.exit_code, result.stdout) == (0, "")


def test_not_found_exits_3_with_az_error(arm: FakeArm) -> None:
    result = invoke("vm", "show", "-g", "rg1", "-n", "missing")
    assert result.exit_code == 3 and result.stderr.startswith("ERROR: (ResourceNotFound)")


def test_group_exists_prints_json_bool(arm: FakeArm) -> None:
    assert invoke("group", "exists", "-n", "rg1").stdout == "true\n"
    assert invoke("group", "exists", "-n", "nope").stdout == "false\n"


def test_delete_without_yes_and_no_tty_refuses(arm: FakeArm) -> None:
    result = invoke("group", "delete", "-n", "rg1")
    assert result.exit_code == 1 and "Use --yes" in result.stderr
    assert not [c for c in arm.calls if c[0] == "DELETE"]
    assert invoke("group", "delete", "-n", "rg1", "--yes").exit_code == 0
    assert arm.calls[-1][0] == "DELETE"


def test_usage_errors_exit_2(arm: FakeArm) -> None:
    assert invoke("vm", "show", "-g", "rg1").exit_code == 2
    assert invoke("vm", "show", "-g", "rg1", "-n", "vm1", "--query", "[?").exit_code == 2
    assert invoke("vm", "show", "-g", "rg1", "-n", "vm1", "-o", "xml").exit_code == 2


def test_env_prints_shell_lines(arm: FakeArm) -> None:
    result = invoke("env", "-g", "rg1", "-n", "web", "--type", "webapp")
    assert result.stdout == "export IDENTITY_ENDPOINT='http://x/'\\''y'\\'''\nunset MSI_SECRET\n"
    assert arm.calls[-1][2] == {"resourceId": f"/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.Web/sites/web"}


def test_run_propagates_exit_code_and_environment(arm: FakeArm, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MSI_SECRET", "stale")
    script = 'test -z "${MSI_SECRET+x}" && test "$IDENTITY_ENDPOINT" = "http://x/\'y\'" && exit 42'
    result = invoke("run", "-g", "rg1", "-n", "vm1", "--", "sh", "-c", script)
    assert result.exit_code == 42


def test_run_unknown_command_exits_127(arm: FakeArm) -> None:
    result = invoke("run", "-g", "rg1", "-n", "vm1", "--", "/nonexistent/tool")
    assert result.exit_code == 127 and "command not found" in result.stderr


def test_ca_show_prints_the_ca_path_and_its_pem(tmp_path):  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from azmi.cli.main import cli
    (tmp_path / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    runner = CliRunner()
    out = runner.invoke(cli, ["--data-dir", str(tmp_path), "ca", "show"])
    assert out.exit_code == 0 and out.output.strip() == str(tmp_path / "ca.pem")
    pem = runner.invoke(cli, ["--data-dir", str(tmp_path), "ca", "show", "--pem"])
    assert pem.output.startswith("-----BEGIN CERTIFICATE-----")
    missing = runner.invoke(cli, ["--data-dir", str(tmp_path / "nope"), "ca", "show"])
    assert missing.exit_code == 1 and "azmi up" in missing.output
