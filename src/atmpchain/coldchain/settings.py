"""Telemetry settings: the MQTT broker and topic, batching, silence checks and alarm notifiers.

Read from the same `ATMPCHAIN_*` environment variables as the main Settings (these names do not
clash with its fields), then from the `[telemetry]` table of the same `atmpchain.toml`.
Environment variables win over the file, as for the main Settings.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from atmpchain.coldchain.domain import MAX_STORABLE_SEQUENCE, ReadingLimits
from atmpchain.coldchain.topics import topic_pattern_problem
from atmpchain.config import config_file

NotifierName = Literal["log", "smtp", "webhook"]


def _log_only() -> list[NotifierName]:
    return ["log"]


class TelemetrySettings(BaseSettings):
    """Where readings come from and where alarms go."""

    # Unknown keys in the [telemetry] table are refused, like the main Settings refuses its own;
    # unrelated ATMPCHAIN_* environment variables belong to the main Settings and are not ours.
    model_config = SettingsConfigDict(env_prefix="ATMPCHAIN_", extra="forbid")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = config_file()
        if path.is_file():
            sources.append(
                TomlConfigSettingsSource(
                    settings_cls, toml_file=path, toml_table_header=("telemetry",)
                )
            )
        return tuple(sources)

    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = Field(default=1883, ge=1, le=65535)
    mqtt_username: str | None = None
    mqtt_password: str | None = None
    mqtt_topic: str = Field(
        default="atmpchain/sensors/+/temperature",
        description="MQTT topic filter; its first '+' carries the sensor code",
    )
    # A fixed client id and a persistent session: the broker keeps unacknowledged QoS 1
    # messages for this id while the consumer is down and redelivers them when it returns.
    mqtt_client_id: str = "atmpchain-telemetry"
    # Several consumers share one stream: each subscribes as a member of this MQTT 5 shared
    # subscription ("$share/<group>/<topic>"), each with its own client id (and so its own
    # persistent session), and the broker hands every message to one of them. None: the
    # consumer subscribes alone and receives every message.
    mqtt_shared_group: str | None = Field(default=None, min_length=1, max_length=64)
    mqtt_session_expiry_seconds: int = Field(default=7 * 24 * 3600, ge=60)
    mqtt_batch_messages: int = Field(default=500, ge=1, le=10_000)
    mqtt_batch_milliseconds: int = Field(default=200, ge=1, le=60_000)
    # Silent sensors are checked on this timer, in a thread and transaction of their own, so
    # that a stuck or failing ingest never stops the "no readings" alarm.
    silence_check_seconds: int = Field(default=30, ge=1)
    # Alarm notifiers; the log notifier always runs.
    alarm_notifiers: list[NotifierName] = Field(default_factory=_log_only)
    notifier_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_starttls: bool = True
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_from: str | None = None
    smtp_to: list[str] = Field(default_factory=list)
    alarm_webhook_url: str | None = None
    # What a reading must satisfy to be stored (`ReadingLimits`); a refusal names the bound.
    # The bounds can only be narrowed to what the columns hold: 4 decimal places, a signed
    # 64-bit sequence, temperatures within NUMERIC(9, 4).
    reading_lowest_celsius: Decimal = Field(default=Decimal("-273.15"), ge=Decimal("-273.15"))
    reading_highest_celsius: Decimal = Field(default=Decimal("100"), le=Decimal("1000"))
    reading_decimal_places: int = Field(default=4, ge=0, le=4)
    reading_clock_tolerance_seconds: int = Field(default=120, ge=0, le=24 * 3600)
    reading_max_age_days: int = Field(default=365, ge=1, le=36_500)
    reading_max_sequence: int = Field(default=MAX_STORABLE_SEQUENCE, ge=0, le=MAX_STORABLE_SEQUENCE)

    @model_validator(mode="after")
    def _check_limits(self) -> TelemetrySettings:
        if self.reading_lowest_celsius > self.reading_highest_celsius:
            raise ValueError("reading_lowest_celsius is above reading_highest_celsius")
        return self

    def reading_limits(self) -> ReadingLimits:
        """The bounds every reading is checked against, from these settings."""
        return ReadingLimits(
            lowest=self.reading_lowest_celsius,
            highest=self.reading_highest_celsius,
            decimal_places=self.reading_decimal_places,
            clock_tolerance=timedelta(seconds=self.reading_clock_tolerance_seconds),
            max_age=timedelta(days=self.reading_max_age_days),
            max_sequence=self.reading_max_sequence,
        )

    @field_validator("mqtt_topic")
    @classmethod
    def _check_topic(cls, value: str) -> str:
        problem = topic_pattern_problem(value)
        if problem is not None:
            raise ValueError(f"'{value}' is not an MQTT topic filter: {problem}")
        return value

    @field_validator("mqtt_shared_group")
    @classmethod
    def _check_group(cls, value: str | None) -> str | None:
        if value is not None and any(c in value for c in "/+#\x00"):
            raise ValueError(f"'{value}' is not a shared subscription group: no '/', '+' or '#'")
        return value

    @property
    def mqtt_subscription(self) -> str:
        """The topic filter the consumer subscribes to: the shared form when in a group."""
        if self.mqtt_shared_group is None:
            return self.mqtt_topic
        return f"$share/{self.mqtt_shared_group}/{self.mqtt_topic}"

    @field_validator("alarm_webhook_url")
    @classmethod
    def _check_webhook(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError(f"'{value}' is not an http(s) URL")
        return value
