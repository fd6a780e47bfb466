"""The one Settings object.

Read from environment variables (`ATMPCHAIN_*`), then an optional TOML file (`atmpchain.toml` in the
working directory, or the file named by `ATMPCHAIN_CONFIG`), then the defaults below. Environment
variables win over the file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from atmpchain.fin import fin_problem

SUPPORTED_BACKENDS = ("sqlite", "postgresql")
DEFAULT_SQLITE_PATH = Path("var") / "atmpchain.db"


class ConfigError(Exception):
    """The configuration cannot be used; the message says which setting and why."""


def config_file() -> Path:
    return Path(os.environ.get("ATMPCHAIN_CONFIG", "atmpchain.toml"))


class Settings(BaseSettings):
    """Everything the application can be configured with."""

    model_config = SettingsConfigDict(env_prefix="ATMPCHAIN_", extra="forbid")

    environment: Literal["development", "production"] = "development"
    database_url: str = Field(
        default=f"sqlite:///{DEFAULT_SQLITE_PATH}",
        description="SQLAlchemy URL; sqlite:///path or postgresql+psycopg://user@host/db",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # Behind a TLS-terminating proxy every request comes from the proxy's address: name the
    # proxy here (comma-separated addresses) so that its X-Forwarded-For gives the client's own
    # address, which failed logins are throttled by. Empty: the connecting address counts.
    trusted_proxies: str = Field(default="", max_length=1000)
    display_timezone: str = Field(
        default="UTC", description="IANA zone used for users who have not chosen their own"
    )
    # Annex 11 §12: access control. A cleanroom terminal left logged in is an open door.
    session_idle_minutes: int = Field(default=15, ge=1, le=24 * 60)
    session_max_hours: int = Field(default=12, ge=1, le=72)
    lockout_threshold: int = Field(default=5, ge=1, le=100)
    lockout_minutes: int = Field(default=15, ge=1)
    password_min_length: int = Field(default=10, ge=8)
    # Failed logins throttled per client address (password spraying) and per username (also
    # for usernames that do not exist, which the lock-out cannot count): `limit` failures within
    # the window pause logins for that address or username for the block's length. Counted in
    # the database, so every server process shares them.
    login_throttle_window_minutes: int = Field(default=15, ge=1, le=24 * 60)
    login_throttle_address_limit: int = Field(default=30, ge=1, le=10_000)
    login_throttle_username_limit: int = Field(default=10, ge=1, le=10_000)
    login_throttle_block_minutes: int = Field(default=15, ge=1, le=24 * 60)
    # The largest request body accepted, in bytes, counted from Content-Length and from the bytes
    # as they arrive, before anything is parsed (413 beyond it). The default takes a logger CSV of
    # 20 MB (coldchain.service.MAX_CSV_BYTES) with its multipart wrapping.
    max_body_bytes: int = Field(default=24 * 1024 * 1024, ge=64 * 1024, le=1024 * 1024 * 1024)
    # HTML forms sent URL-encoded carry typed text only (the longest field takes 4,000
    # characters): they get this smaller limit. Uploads are multipart and JSON goes to the API.
    form_max_bytes: int = Field(default=256 * 1024, ge=16 * 1024, le=24 * 1024 * 1024)
    # The login form (open to anyone), the password change and logging out carry a few short
    # fields: the smallest limit, so that nobody can make the server read megabytes unasked.
    small_form_max_bytes: int = Field(default=16 * 1024, ge=4 * 1024, le=1024 * 1024)
    # None means: secure cookies in production, plain cookies in development (http://127.0.0.1).
    cookie_secure: bool | None = None
    # The facility's own ISBT 128 Facility Identification Number (from ICCBBA's registry) and
    # the product description codes it uses: configuration, never constants in code. The FIN
    # and the name only seed the facility record that `init-db` and `demo` store in the
    # database; from then on the stored record counts, and an administrator changes it there.
    facility_fin: str | None = Field(default=None, description="e.g. A9999 (ICCBBA-assigned)")
    facility_name: str = "ATMP Center"
    product_descriptions: dict[str, str] = Field(
        default_factory=dict, description="product description code -> text for labels"
    )
    # EU Single European Code for tissues and cells received as starting material (Directive
    # 2006/86/EC Annex VII): the country and the tissue establishment code from the EU compendium.
    sec_country: str | None = Field(default=None, description="ISO 3166-1 alpha-2, e.g. AT")
    sec_tissue_establishment: str | None = Field(default=None, description="6-character TE code")
    # Signed audit checkpoints (ADR 0013). The private key never goes into the database: a PEM
    # file (Ed25519, PKCS#8) readable only by the service account, named here like any *_FILE
    # secret. Without it the trail works and `audit verify` says that nothing is signed.
    audit_signing_key_file: Path | None = None
    # The published public keys that `audit verify` trusts, with their validity (TOML, one
    # [[key]] per key); without it only the signing key's own public key is trusted.
    audit_trusted_keys_file: Path | None = None
    audit_checkpoint_every: int = Field(default=1000, ge=1, le=1_000_000)
    # At least daily: the server (and a cron or systemd timer running `atmpchain audit
    # checkpoint`) signs the head when the last checkpoint is older than this.
    audit_checkpoint_max_age_hours: int = Field(default=24, ge=1, le=24 * 7)
    # The `[telemetry]` table of atmpchain.toml belongs to the cold chain's own settings
    # (atmpchain.coldchain.settings.TelemetrySettings, which checks it); accepted here so that
    # the file as a whole is not refused.
    telemetry: dict[str, Any] = Field(default_factory=dict)

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
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        parse_database_url(value)
        return value

    @field_validator("display_timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"'{value}' is not an IANA time zone such as Europe/Vienna") from exc
        return value

    @field_validator("facility_fin")
    @classmethod
    def _check_fin(cls, value: str | None) -> str | None:
        if value is None:
            return None
        problem = fin_problem(value)
        if problem is not None:
            raise ValueError(f"'{value}' is not a valid FIN: {problem}")
        return value

    @property
    def secure_cookies(self) -> bool:
        """Whether cookies carry the Secure flag."""
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.environment == "production"

    @property
    def url(self) -> URL:
        """The database URL, parsed."""
        return parse_database_url(self.database_url)


def parse_database_url(value: str) -> URL:
    """Parse and check a database URL, raising ValueError naming the rule broken."""
    try:
        url = make_url(value)
    except ArgumentError as exc:
        raise ValueError(
            f"'{value}' is not a database URL (expected sqlite:///path/to/file.db or "
            "postgresql+psycopg://user@host:5432/dbname)"
        ) from exc
    if url.get_backend_name() not in SUPPORTED_BACKENDS:
        raise ValueError(
            f"database '{url.get_backend_name()}' is not supported; use sqlite or postgresql"
        )
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        raise ValueError("an in-memory SQLite database would lose every GMP record; give a file")
    if url.get_backend_name() == "postgresql" and url.get_driver_name() != "psycopg":
        url = url.set(drivername="postgresql+psycopg")
    return url


def load_settings(**overrides: Any) -> Settings:
    """Load settings, turning validation problems into one readable ConfigError."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "settings"
            name = f"ATMPCHAIN_{field.upper()}"
            message = str(err["msg"]).removeprefix("Value error, ")
            problems.append(f"{name}: {message}")
        raise ConfigError("invalid configuration: " + "; ".join(problems)) from None
