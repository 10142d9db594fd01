"""`azmi env` rendering and `azmi run` environment construction."""

from __future__ import annotations

import subprocess

import click
import pytest

from azmi.cli.errors import CliError
from azmi.cli.runenv import (child_environment, exit_status, parse_environment, render_env, shell_quote,
                             target_id)

TRICKY = "it's a \"test\" $HOME `x` \\ \n end"


def test_render_exports_then_unsets() -> None:
    assert render_env({"A": "1", "B": "x y"}, ["C"]) == "export A='1'\nexport B='x y'\nunset C\n"


def test_single_quote_escaping() -> None:
    assert shell_quote("it's") == "'it'\\''s'"


def test_rendered_lines_round_trip_through_sh() -> None:
    script = render_env({"V": TRICKY}, ["GONE"]) + 'printf %s "$V"; [ -z "${GONE+x}" ] && printf "|unset"'
    out = subprocess.run(["sh", "-c", script], capture_output=True, text=True, env={"GONE": "1"}, check=True)
    assert out.stdout == TRICKY + "|unset"


def test_child_environment_sets_and_unsets_never_blanks() -> None:
    env = child_environment({"KEEP": "k", "MSI_SECRET": "old", "X": "old"}, {"X": "new"}, ["MSI_SECRET"])
    assert env == {"KEEP": "k", "X": "new"}


def test_parse_environment_validates_names_and_drops_unset_that_is_set() -> None:
    assert parse_environment({"set": {"A": 1}, "unset": ["A", "B"]}) == ({"A": "1"}, ["B"])
    with pytest.raises(CliError):
        parse_environment({"set": {"BAD NAME": "x"}})
    with pytest.raises(CliError):
        parse_environment(None)


def test_target_id_by_type() -> None:
    assert target_id("s", "vm", "rg", "n", None) == \
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/n"
    assert target_id("s", "functionapp", "rg", "n", None).endswith("/providers/Microsoft.Web/sites/n")
    assert target_id("s", "container", "rg", "n", None).endswith("/Microsoft.ContainerInstance/containerGroups/n")
    assert target_id("", "vm", None, None, "/subscriptions/x/y") == "/subscriptions/x/y"


def test_target_id_needs_ids_or_group_and_name() -> None:
    with pytest.raises(click.UsageError):
        target_id("s", "vm", "rg", None, None)
    with pytest.raises(click.UsageError):
        target_id("s", "vm", "rg", "n", "/subscriptions/x")


def test_exit_status_of_signalled_child() -> None:
    assert exit_status(3) == 3
    assert exit_status(-15) == 143
