"""Settings for the chat service: the indexer's settings plus conversation, handoff and storage knobs."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator

from indexer.settings import Settings as IndexSettings


class Settings(IndexSettings):
    """Runtime configuration of the whole product (``PASOKH_*`` variables or ``.env``)."""

    database_url: str = Field(
        "sqlite:///var/pasokh.db",
        validation_alias=AliasChoices("PASOKH_DATABASE_URL", "DATABASE_URL"),
        description="SQLAlchemy URL of the conversation and handoff store (SQLite file by default).",
    )
    confidence_threshold: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description=(
            "Replies with a calibrated confidence below this are handed to a person (low_confidence). "
            "Default: the threshold chosen with the calibrator on held-out data."
        ),
    )
    failures_before_handoff: int = Field(
        2, ge=1, le=20, description="Unanswered turns in a row after which the session goes to a person."
    )
    anger_threshold: float = Field(
        0.5, ge=0.0, le=1.0, description="Sentiment anger score from which a message counts as angry."
    )
    max_message_chars: int = Field(4000, ge=1, le=100_000, description="Longest customer message accepted.")
    timezone: str = Field("Asia/Tehran", description="Time zone of the support team's business hours.")
    business_hours: str = Field(
        "sat-wed 08:00-20:00; thu 08:00-14:00",
        description="When people answer handoffs: 'days HH:MM-HH:MM' groups separated by ';' (fri = closed here).",
    )
    holidays: str = Field(
        "01-01 01-02 01-03 01-04 01-12 01-13 03-14 03-15 11-22 12-29",
        description=(
            "Closed days as Jalali MM-DD (every year) or YYYY-MM-DD (one year, e.g. lunar holidays), "
            "separated by spaces or commas. Default: Iran's fixed solar-calendar public holidays."
        ),
    )
    support_phone: str = Field("", description="Phone number given to customers in handoff replies (optional).")
    agent_key: SecretStr | None = Field(
        None,
        description=(
            "Bearer key for agent endpoints (suggested replies, handoff queue, saved replies); "
            "at least 16 characters. Unset: those endpoints refuse every request."
        ),
    )
    admin_key: SecretStr | None = Field(
        None,
        description=(
            "Bearer key for admin endpoints (index rebuild, analytics, gaps); it also works as an agent key. "
            "At least 16 characters. Unset: admin endpoints refuse every request."
        ),
    )
    handoff_webhook_url: str = Field(
        "", description="When set, every new handoff ticket is POSTed here as JSON (after it is stored)."
    )
    webhook_attempts: int = Field(5, ge=1, le=20, description="Deliveries tried per ticket before giving up.")
    webhook_timeout: float = Field(5.0, gt=0, le=60, description="Seconds to wait for the webhook to answer.")
    max_body_bytes: int = Field(
        65536, ge=1024, le=16 * 1024 * 1024, description="Largest request body accepted (413 beyond it)."
    )
    rate_limit_per_ip: int = Field(
        120, ge=0, le=1_000_000, description="Public requests per minute per client address (0: no limit)."
    )
    rate_limit_per_session: int = Field(
        30, ge=0, le=1_000_000, description="Chat messages and feedback per minute per session (0: no limit)."
    )
    cors_origins: str = Field(
        "",
        description="Web origins (scheme://host[:port], comma-separated) whose pages may call the public API; "
        "'*' allows any. Empty: same origin only.",
    )
    site_keys: str = Field(
        "",
        description="Widget site keys and the origins each may be used from: "
        "'key1=https://shop.example,https://www.shop.example; key2=https://blog.example'. "
        "Empty: site keys are not checked.",
    )
    index_poll_seconds: float = Field(
        5.0, ge=0, le=3600, description="How often a server checks the index folder for a new generation (0: never)."
    )
    outbox_dir: Path = Field(
        Path("var/outbox"),
        description="Where chat turns are kept when the database is unavailable, until they can be written.",
    )
    log_format: str = Field("text", pattern="^(text|json)$", description="Log lines as plain text or JSON objects.")

    @field_validator("database_url")
    @classmethod
    def _url_not_blank(cls, value: str) -> str:
        """Refuse an empty database URL rather than fail on first request."""
        if not value.strip():
            raise ValueError("DATABASE_URL must be an SQLAlchemy URL such as sqlite:///var/pasokh.db")
        return value.strip()

    @field_validator("agent_key", "admin_key")
    @classmethod
    def _key_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        """Refuse guessable keys; an empty value means "not configured"."""
        if value is None or not value.get_secret_value().strip():
            return None
        if len(value.get_secret_value().strip()) < 16:
            raise ValueError(
                "must be at least 16 characters (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(24))'`)"
            )
        return SecretStr(value.get_secret_value().strip())

    @field_validator("handoff_webhook_url")
    @classmethod
    def _webhook_is_http(cls, value: str) -> str:
        """Accept only http(s) URLs for the handoff webhook."""
        value = value.strip()
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL (or empty to disable the webhook)")
        return value

    @model_validator(mode="after")
    def _distinct_keys(self) -> Settings:
        """Refuse an agent key equal to the admin key: every agent would have admin rights."""
        if self.agent_key and self.admin_key and self.agent_key.get_secret_value() == self.admin_key.get_secret_value():
            raise ValueError("PASOKH_AGENT_KEY and PASOKH_ADMIN_KEY must differ")
        return self

    def cors_origin_list(self) -> list[str]:
        """Return the CORS allowlist."""
        return [o.strip().rstrip("/") for o in self.cors_origins.split(",") if o.strip()]

    def site_key_origins(self) -> dict[str, frozenset[str]]:
        """Return each configured site key with the origins it may be used from."""
        keys: dict[str, frozenset[str]] = {}
        for entry in self.site_keys.split(";"):
            if not entry.strip():
                continue
            key, _, origins = entry.partition("=")
            keys[key.strip()] = frozenset(o.strip().rstrip("/") for o in origins.split(",") if o.strip())
        return keys

    @field_validator("site_keys")
    @classmethod
    def _site_keys_parse(cls, value: str) -> str:
        """Refuse a site-key list that does not say which origins each key is for."""
        for entry in value.split(";"):
            if not entry.strip():
                continue
            key, sep, origins = entry.partition("=")
            if not sep or not key.strip() or not origins.strip():
                raise ValueError(f"entry {entry.strip()!r} must look like 'key=https://shop.example[,https://...]'")
            for origin in origins.split(","):
                if origin.strip() and not origin.strip().startswith(("http://", "https://")):
                    raise ValueError(
                        f"origin {origin.strip()!r} of site key {key.strip()!r} must start with http(s)://"
                    )
        return value
