"""Settings: environment, an optional atmpchain.toml, and clear refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from atmpchain.config import ConfigError, load_settings
from atmpchain.db import Database, DatabaseUnavailable


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "ATMPCHAIN_DATABASE_URL",
        "ATMPCHAIN_DISPLAY_TIMEZONE",
        "ATMPCHAIN_CONFIG",
        "ATMPCHAIN_MQTT_HOST",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_default_database_is_a_sqlite_file_under_var() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite:///var/atmpchain.db"


def test_toml_file_is_read_and_environment_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    Path("atmpchain.toml").write_text(
        'database_url = "sqlite:///from-file.db"\ndisplay_timezone = "Europe/Vienna"\n'
    )
    assert load_settings().display_timezone == "Europe/Vienna"
    assert load_settings().database_url == "sqlite:///from-file.db"
    monkeypatch.setenv("ATMPCHAIN_DATABASE_URL", "sqlite:///from-env.db")
    assert load_settings().database_url == "sqlite:///from-env.db"


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("not a url", "is not a database URL"),
        ("mysql://root@localhost/db", "'mysql' is not supported"),
        ("sqlite://", "in-memory SQLite"),
    ],
)
def test_bad_database_url_is_refused_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, url: str, words: str
) -> None:
    monkeypatch.setenv("ATMPCHAIN_DATABASE_URL", url)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert "ATMPCHAIN_DATABASE_URL" in str(err.value)
    assert words in str(err.value)


def test_unknown_time_zone_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATMPCHAIN_DISPLAY_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ConfigError, match="not an IANA time zone"):
        load_settings()


def test_unreachable_database_is_reported_plainly() -> None:
    db = Database("postgresql+psycopg://postgres@127.0.0.1:1/none")
    with pytest.raises(
        DatabaseUnavailable, match=r"cannot reach the database at postgresql\+psycopg://"
    ):
        db.check()


def test_uninitialised_database_says_what_to_run(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(DatabaseUnavailable, match="atmpchain init-db"):
        db.check()


def test_telemetry_table_in_the_same_file_is_read_and_does_not_break_the_main_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pydantic import ValidationError

    from atmpchain.coldchain.settings import TelemetrySettings

    Path("atmpchain.toml").write_text(
        'display_timezone = "Europe/Vienna"\n'
        "[telemetry]\n"
        'mqtt_host = "broker.cryostore.local"\n'
        'mqtt_topic = "site/+/temperature"\n'
    )
    monkeypatch.setenv("ATMPCHAIN_DATABASE_URL", "sqlite:///from-env.db")
    assert load_settings().display_timezone == "Europe/Vienna"
    telemetry = TelemetrySettings()
    assert telemetry.mqtt_host == "broker.cryostore.local"
    assert telemetry.mqtt_topic == "site/+/temperature"
    monkeypatch.setenv("ATMPCHAIN_MQTT_HOST", "127.0.0.1")
    assert TelemetrySettings().mqtt_host == "127.0.0.1"
    Path("atmpchain.toml").write_text('[telemetry]\nmqtt_hots = "typo"\n')
    with pytest.raises(ValidationError, match="mqtt_hots"):
        TelemetrySettings()
