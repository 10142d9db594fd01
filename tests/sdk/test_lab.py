"""`azmi lab` end to end against a running azmi: the whole catalogue passes, and each lab cleans up."""

from __future__ import annotations

import re

from azmi.cli.lab import CATALOGUE
from tests.conftest import API, Server


def test_lab_list_names_every_lab(server: Server) -> None:
    done = server.cli("lab", "list")
    assert done.returncode == 0, done.stderr
    assert [ln.split()[0] for ln in done.stdout.splitlines()] == [lab.name for lab in CATALOGUE]


def test_every_lab_passes_and_cleans_up(server: Server) -> None:
    done = server.cli("lab", "run", "--all", timeout=300)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    assert done.stdout.rstrip().splitlines()[-1] == f"{len(CATALOGUE)} passed, 0 failed"
    assert done.stdout.count("\nLesson: ") + done.stdout.startswith("Lesson: ") == len(CATALOGUE)
    assert re.search(r"eyJ[\w-]{20,}\.[\w-]+\.[\w-]+", done.stdout) is None, "a token was printed in full"
    assert "chars)" in done.stdout  # ... and abbreviated ones were
    groups = {g["name"] for g in server.arm("GET", f"/subscriptions/{server.sub}/resourcegroups", API["group"],
                                            expect=200).json()["value"]}
    created = set(re.findall(r"azmi group create -n (\S+)", done.stdout))
    assert len(created) == len(CATALOGUE) and not created & groups, "a lab left its resource group behind"
    faults = server.cli("fault", "show", "--query", "imdsRateLimit")
    assert faults.stdout.strip() == "0", "the throttling lab did not restore the IMDS limit"


def test_one_lab_by_name(server: Server) -> None:
    done = server.cli("lab", "run", "missing-metadata-header")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Required metadata header not specified" in done.stdout
    assert "PASS missing-metadata-header" in done.stdout and "passed," not in done.stdout
