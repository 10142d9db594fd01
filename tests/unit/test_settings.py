"""settings.from_env: strict parsing; every bad value is an error naming its variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from azmi.settings import Ports, Settings, SettingsError, from_env, parse_bool, parse_duration


def test_defaults_from_an_empty_environment(tmp_path: Path) -> None:
    s = from_env({"AZMI_DATA_DIR": str(tmp_path)})
    assert s.data_dir == tmp_path
    assert s.in_memory is False
    assert s.token_lifetime == 3600 and s.token_refresh_margin == 600
    assert s.uami_per_resource == 20
    assert s.ports == Ports()
    assert s.database_url == f"sqlite:///{tmp_path / 'azmi.db'}"


@pytest.mark.parametrize("value, expected", [("true", True), ("false", False), ("TRUE", True), ("False", False),
                                             ("1", True), ("0", False), ("yes", True), ("no", False),
                                             (" true ", True)])
def test_booleans(value: str, expected: bool) -> None:
    assert from_env({"AZMI_IN_MEMORY": value}).in_memory is expected


@pytest.mark.parametrize("value", ["maybe", "", "2", "t", "nope", "truee"])
def test_bad_booleans_are_errors(value: str) -> None:
    with pytest.raises(SettingsError) as info:
        from_env({"AZMI_IN_MEMORY": value})
    assert "AZMI_IN_MEMORY" in str(info.value)


def test_in_memory_database_url() -> None:
    assert from_env({"AZMI_IN_MEMORY": "true"}).database_url == "sqlite://"
    assert from_env({"AZMI_DB": "postgresql+psycopg://x/y"}).database_url == "postgresql+psycopg://x/y"


@pytest.mark.parametrize("value, seconds", [("3600", 3600), ("90s", 90), ("7m", 420), ("2h", 7200), ("1d", 86400),
                                            (" 10m ", 600)])
def test_durations(value: str, seconds: int) -> None:
    assert parse_duration("X", value) == seconds
    assert from_env({"AZMI_KEY_ROTATION_INTERVAL": value}).key_rotation_interval == seconds


@pytest.mark.parametrize("value", ["1w", "-5", "1.5h", "h", "10 m", "ten", "1hm"])
def test_bad_durations_are_errors(value: str) -> None:
    with pytest.raises(SettingsError) as info:
        from_env({"AZMI_TOKEN_LIFETIME": value})
    assert "AZMI_TOKEN_LIFETIME" in str(info.value)


def test_refresh_margin_must_be_shorter_than_lifetime() -> None:
    assert from_env({"AZMI_TOKEN_LIFETIME": "2h", "AZMI_TOKEN_REFRESH_MARGIN": "10m"}).token_lifetime == 7200
    with pytest.raises(SettingsError):
        from_env({"AZMI_TOKEN_LIFETIME": "10m", "AZMI_TOKEN_REFRESH_MARGIN": "10m"})


@pytest.mark.parametrize("var", ["AZMI_TENANT_ID", "AZMI_SUBSCRIPTION_ID"])
def test_guids(var: str) -> None:
    with pytest.raises(SettingsError):
        from_env({var: "not-a-guid"})
    s = from_env({var: "ABCDEF01-2345-6789-ABCD-EF0123456789"})
    assert getattr(s, var.lower().removeprefix("azmi_")) == "abcdef01-2345-6789-abcd-ef0123456789"


@pytest.mark.parametrize("env", [{"AZMI_UAMI_PER_RESOURCE": "0"}, {"AZMI_UAMI_PER_RESOURCE": "many"},
                                 {"AZMI_UAMI_PER_SUBSCRIPTION": "-1"}, {"AZMI_ARM_PORT": "http"},
                                 {"AZMI_IMDS_PORT": "-1"}])
def test_bad_integers_are_errors(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError) as info:
        from_env(env)
    assert next(iter(env)) in str(info.value)


def test_ports_and_limits() -> None:
    s = from_env({"AZMI_ARM_PORT": "8443", "AZMI_IMDS_PORT": "0", "AZMI_UAMI_PER_RESOURCE": "5"})
    assert s.ports.arm == 8443 and s.ports.imds == 0 and s.ports.login == Ports().login
    assert s.uami_per_resource == 5


def test_overrides_win_over_the_environment() -> None:
    s = from_env({"AZMI_LOCATION": "westus"}, location="northeurope")
    assert s.location == "northeurope"


def test_settings_are_frozen() -> None:
    s = Settings()
    with pytest.raises(AttributeError):
        s.token_lifetime = 1  # type: ignore[misc]
    assert s.with_overrides(token_lifetime=5).token_lifetime == 5 and s.token_lifetime == 3600


def test_parse_bool_names_the_variable() -> None:
    with pytest.raises(SettingsError, match="AZMI_X: 'maybe' is not a boolean"):
        parse_bool("AZMI_X", "maybe")
