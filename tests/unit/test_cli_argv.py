"""az's space-separated multi-value options become repeated Click options."""

from __future__ import annotations

from azmi.cli.argv import expand_multi_values


def test_tags_values_are_split() -> None:
    assert expand_multi_values(["group", "create", "--tags", "a=1", "b=2", "-l", "eastus"]) == [
        "group", "create", "--tags=a=1", "--tags=b=2", "-l", "eastus"]


def test_bare_assign_identity_means_system() -> None:
    assert expand_multi_values(["vm", "create", "--assign-identity", "-g", "rg"]) == [
        "vm", "create", "--assign-identity=[system]", "-g", "rg"]
    assert expand_multi_values(["vm", "create", "-n", "x", "--assign-identity"])[-1] == "--assign-identity=[system]"


def test_assign_identity_values_kept() -> None:
    assert expand_multi_values(["--assign-identity", "[system]", "/subscriptions/s/x"]) == [
        "--assign-identity=[system]", "--assign-identity=/subscriptions/s/x"]


def test_bare_identities_dropped_and_bare_tags_clear() -> None:
    assert expand_multi_values(["--identities", "-g", "rg"]) == ["-g", "rg"]
    assert expand_multi_values(["--tags"]) == ["--tags="]


def test_inline_value_takes_one() -> None:
    assert expand_multi_values(["--tags=a=b", "x"]) == ["--tags=a=b", "x"]


def test_nothing_after_double_dash_is_touched() -> None:
    argv = ["run", "-g", "rg", "-n", "vm", "--", "tool", "--tags", "a", "b"]
    assert expand_multi_values(argv) == argv


def test_values_stop_at_double_dash() -> None:
    assert expand_multi_values(["--identities", "a", "--", "--identities"]) == ["--identities=a", "--", "--identities"]
