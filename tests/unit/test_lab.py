"""The pure parts of `azmi lab`, `azmi fault|clock` and `update --set`: durations, `--set` parsing,
fault bodies, the printing helpers, the catalogue, and the commands' usage errors."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from azmi.cli.argv import expand_multi_values
from azmi.cli.errors import CliError
from azmi.cli.fault import CLEAR, clock_view, fault_body, parse_duration
from azmi.cli.lab import CATALOGUE
from azmi.cli.lab.core import Summary, abbreviate, compact
from azmi.cli.main import cli
from azmi.cli.resource_commands import parse_set, update_patch

JWT = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJvaWQiOiIxIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


@pytest.mark.parametrize("text, seconds", [("7m", 420), ("90s", 90), ("0", 0), ("2h", 7200), ("1d", 86400),
                                           ("420", 420), ("-3m", -180), ("+5m", 300)])
def test_signed_durations(text: str, seconds: int) -> None:
    assert parse_duration(text, signed=True) == seconds


@pytest.mark.parametrize("text", ["", "7x", "m", "1.5h", "--3m", "7 m m"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text, signed=True)


def test_clock_advance_takes_no_negative_duration() -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("-1h")


def test_set_splits_clock_skew_from_property_paths() -> None:
    skew, paths = parse_set(["clockSkew=-3m", "tags.env=lab", "hardwareProfile.vmSize=Standard_B1s", "a.n=3"])
    assert skew == -180
    assert paths == {"tags.env": "lab", "hardwareProfile.vmSize": "Standard_B1s", "a.n": 3}


@pytest.mark.parametrize("bad", [["clockSkew=7x"], ["noequals"], ["=v"]])
def test_set_rejects_malformed_values(bad: list[str]) -> None:
    with pytest.raises(CliError):
        parse_set(bad)


def test_update_patch_merges_into_current_values() -> None:
    resource = {"tags": {"a": "1"}, "properties": {"hardwareProfile": {"vmSize": "S1", "x": 1}, "other": {"k": 2}}}
    body = update_patch(resource, {"tags.env": "lab", "properties.hardwareProfile.vmSize": "S2"})
    assert body == {"tags": {"a": "1", "env": "lab"}, "properties": {"hardwareProfile": {"vmSize": "S2", "x": 1}}}
    assert resource["properties"]["hardwareProfile"]["vmSize"] == "S1"  # input untouched


def test_set_is_an_az_multi_value_option() -> None:
    assert expand_multi_values(["vm", "update", "--set", "clockSkew=7m", "tags.a=b", "-g", "G"]) == [
        "vm", "update", "--set=clockSkew=7m", "--set=tags.a=b", "-g", "G"]


def test_fault_body_has_only_what_was_given() -> None:
    assert fault_body(2, 503, None, None, None, None) == {"failNext": {"count": 2, "status": 503}}
    assert fault_body(1, None, 0.2, 300, 20, 5) == {"failNext": {"count": 1, "status": 503},
                                                    "transientFailureRate": 0.2, "slowResponseMs": 300,
                                                    "imdsRateLimit": 20, "imdsMaxConcurrent": 5}
    assert set(CLEAR) == {"failNext", "transientFailureRate", "slowResponseMs", "imdsRateLimit", "imdsMaxConcurrent"}


def test_fault_body_usage_errors() -> None:
    import click
    with pytest.raises(click.UsageError):
        fault_body(None, None, None, None, None, None)
    with pytest.raises(click.UsageError):
        fault_body(None, 500, None, None, None, None)


def test_clock_view_adds_utc() -> None:
    assert clock_view({"now": 0}) == {"now": 0, "utc": "1970-01-01T00:00:00+00:00"}


def test_tokens_are_abbreviated_everywhere() -> None:
    text = abbreviate(f"Bearer {JWT} and {JWT}")
    assert JWT not in text and text.count(f"({len(JWT)} chars)") == 2
    line = compact({"access_token": JWT, "expires_in": "3600", "other": "x"}, ("access_token", "expires_in"))
    assert JWT not in line and "other" not in line and '"expires_in": "3600"' in line


def test_catalogue_covers_the_chapter() -> None:
    names = [lab.name for lab in CATALOGUE]
    assert len(names) == len(set(names))
    for required in ("missing-metadata-header", "outside-any-resource", "system-assigned-not-shareable",
                     "user-assigned-shared", "both-identities-default", "twenty-identities-limit", "forgotten-grant",
                     "recreated-function-app", "cloned-vm", "token-from-imds", "token-caching", "clock-skew",
                     "contributor-not-data-role", "imds-throttling"):
        assert required in names
    for lab in CATALOGUE:
        assert lab.title and lab.lesson and len(lab.lesson) < 120, lab.name


def test_summary_line() -> None:
    assert Summary(12, 0).line() == "12 passed, 0 failed"


def test_lab_list_and_usage_errors() -> None:
    runner = CliRunner()
    listed = runner.invoke(cli, ["lab", "list"])
    assert listed.exit_code == 0
    assert [ln.split()[0] for ln in listed.output.splitlines()] == [lab.name for lab in CATALOGUE]
    assert runner.invoke(cli, ["lab", "run"]).exit_code == 2
    assert runner.invoke(cli, ["lab", "run", "--all", "clock-skew"]).exit_code == 2
    unknown = runner.invoke(cli, ["lab", "run", "no-such-lab"])
    assert unknown.exit_code == 2 and "no such lab" in unknown.output


def test_clock_advance_rejects_a_bad_duration() -> None:
    result = CliRunner().invoke(cli, ["clock", "advance", "soon"])
    assert result.exit_code == 2 and "not a duration" in result.output


class _FakeArm:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def put(self, path: str, api_version: str, body: object) -> dict[str, object]:
        self.calls.append(("PUT", path))
        return {}

    def request(self, method: str, path: str, api_version: str | None = None, **kw: object) -> tuple[int, None]:
        self.calls.append((method, path))
        return 200, None


class _FakeSession:
    subscription_id = "00000000-0000-0000-0000-000000000001"

    def __init__(self) -> None:
        self.client = _FakeArm()

    def arm(self) -> _FakeArm:
        return self.client


@pytest.mark.parametrize("error", [None, "check", "crash"])
def test_a_lab_cleans_up_whatever_happens(error: str | None) -> None:
    from azmi.cli.lab.core import Lab, LabRun, run_lab

    cleaned: list[str] = []

    def body(run: LabRun) -> None:
        run.on_cleanup(lambda: cleaned.append("restored"))
        run.expect(error != "check", "azmi misbehaved")
        if error == "crash":
            raise RuntimeError("boom")

    sess, lines, summary = _FakeSession(), [], Summary()
    ok = run_lab(sess, Lab("demo", "A demo", "The lesson.", body), lines.append, summary)  # type: ignore[arg-type]
    puts = [p for m, p in sess.client.calls if m == "PUT"]
    deletes = [p for m, p in sess.client.calls if m == "DELETE"]
    assert len(puts) == 1 and deletes == puts, "the lab's own group must be deleted"
    assert cleaned == ["restored"]
    assert ok is (error is None) and (summary.passed, summary.failed) == ((1, 0) if ok else (0, 1))
    text = "\n".join(lines)
    assert ("Lesson: The lesson." in text) is ok
    assert ("FAIL demo" in text) is (not ok)
    if error:
        assert {"check": "azmi misbehaved", "crash": "RuntimeError: boom"}[error] in text
