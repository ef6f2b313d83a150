"""Settings (environment, prefix ``RANTAI_``) and the one function that turns
them into the eventsourcing environment."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlparse

from pydantic_settings import BaseSettings, SettingsConfigDict

from application.campaign import DEFAULT_DAILY_CAPACITY, DEFAULT_DOSE_INTERVAL_DAYS

DEFAULT_SQLITE = Path("var") / "rantai.sqlite"
SECRETS_FILE = Path("var") / "secrets.env"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="RANTAI_", env_file=(".env", str(SECRETS_FILE)), extra="ignore"
    )

    database_url: str = f"sqlite:///{DEFAULT_SQLITE}"
    gs1_company_prefix: str = "8992806"
    gs1_resolver: str = "https://id.gs1.org"  # the GS1 Digital Link resolver new labels point at
    create_tables: bool = False
    postgres_pool_size: int = 5
    postgres_max_overflow: int = 10
    postgres_lock_timeout_seconds: int = 5
    postgres_schema: str = "public"
    aggregate_cache_size: int = 10000  # aggregates kept in memory, fast-forwarded on each load
    cipher_key: str | None = None  # AES key (base64) encrypting every stored event
    nik_secret: str | None = None  # HMAC secret keying recipients by NIK
    checkpoint_key: str | None = None  # Ed25519 seed (base64) signing the sealed log's checkpoints
    checkpoint_origin: str = "rantai/campaign"  # the log's name on its checkpoints (and its public key's)
    checkpoint_every_minutes: int = 60  # rantai worker signs a checkpoint this often while the log grows
    checkpoint_retired_keys: str = ""  # verifier keys of signing keys replaced by `rantai keys rotate-checkpoint`
    daily_capacity: int = DEFAULT_DAILY_CAPACITY  # doses per puskesmas session per day
    dose_interval_days: int = DEFAULT_DOSE_INTERVAL_DAYS  # CoronaVac: dose 2 from 14 days after dose 1
    sms_gateway: str = "outbox"  # outbox | http
    sms_outbox: str = str(Path("var") / "sms-outbox.sqlite")
    sms_http_url: str = "https://api.africastalking.com/version1/messaging"
    sms_http_username: str = "sandbox"
    sms_http_api_key: str = ""
    sms_sender: str = "KEMENKES"
    sms_rate_per_second: float = 50.0  # http provider's limit
    sms_outbox_rate_per_second: float = 0  # 0: as fast as the disk allows
    gateway_secret: str | None = None  # shared with the SMS/USSD provider; callbacks without it get 401
    offline_window_hours: int = 72  # how old a device's scan time may be
    secure_cookies: bool = False  # set behind HTTPS: the session cookie gets Secure
    tls_cert: str | None = None  # rantai serve over HTTPS: certificate chain (PEM), e.g. from rantai tls
    tls_key: str | None = None  # and its private key
    login_failures_per_user: int = 5  # then locked out for login_lockout_minutes (an admin can lift it)
    login_failures_per_address: int = 100  # generous: many phones share one carrier address
    login_lockout_minutes: int = 15
    registrations_per_address_per_hour: int = 600
    registration_failures_per_nik: int = 5  # per hour, then that NIK waits an hour
    max_body_bytes: int = 1_000_000  # a request's body (JSON or form); more is refused with 413
    max_header_bytes: int = 16_384  # a request's headers in all; more is refused with 431
    kfa_codes: dict[str, str] = {}  # GTIN -> KFA code (Kamus Farmasi dan Alat Kesehatan) in FHIR exports, JSON


class MissingSecrets(RuntimeError):
    pass


def ensure_secrets(path: Path = SECRETS_FILE) -> bool:
    """Write a new cipher key and NIK secret to ``path`` unless the environment
    or that file already has them. Answers whether it wrote anything."""
    import os
    import secrets

    from eventsourcing.cryptography import AESCipher

    if os.environ.get("RANTAI_CIPHER_KEY"):
        return False
    if path.exists():
        missing = {name: value for name, value in later_secrets().items() if f"{name}=" not in path.read_text()}
        if missing:  # written before these secrets existed
            with path.open("a") as file:
                file.writelines(f"{name}={value()}\n" for name, value in missing.items())
        return bool(missing)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"RANTAI_CIPHER_KEY={AESCipher.create_key(32)}\nRANTAI_NIK_SECRET={secrets.token_urlsafe(32)}\n"
        + "".join(f"{name}={value()}\n" for name, value in later_secrets().items())
    )
    path.chmod(0o600)
    return True


def later_secrets() -> dict[str, Callable[[], str]]:
    """Secrets added after the first ones: written to an older secrets file when missing."""
    import secrets

    from projections.checkpoints import new_signing_key

    return {"RANTAI_GATEWAY_SECRET": lambda: secrets.token_urlsafe(24), "RANTAI_CHECKPOINT_KEY": new_signing_key}


def event_store_env(settings: Settings, *, create_tables: bool | None = None) -> dict[str, str]:
    """The eventsourcing environment for ``settings`` (SQLite file or PostgreSQL)."""
    create = settings.create_tables if create_tables is None else create_tables
    if not settings.cipher_key or not settings.nik_secret:
        msg = (
            "RANTAI_CIPHER_KEY and RANTAI_NIK_SECRET are not set: run 'rantai db init' "
            f"(it writes them to {SECRETS_FILE}) or set them in the environment."
        )
        raise MissingSecrets(msg)
    env = {
        "GS1_COMPANY_PREFIX": settings.gs1_company_prefix,
        "CREATE_TABLE": "y" if create else "n",
        "CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher",
        "CIPHER_KEY": settings.cipher_key,
        "NIK_HMAC_SECRET": settings.nik_secret,
        "DAILY_CAPACITY": str(settings.daily_capacity),
        "DOSE_INTERVAL_DAYS": str(settings.dose_interval_days),
        "KFA_CODES": ",".join(f"{gtin}={code}" for gtin, code in settings.kfa_codes.items()),  # read by the FHIR export
        "AGGREGATE_CACHE_MAXSIZE": str(settings.aggregate_cache_size),
    }
    url = urlparse(settings.database_url)
    if url.scheme == "sqlite":
        env |= {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(sqlite_path(settings))}
    elif url.scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        env |= {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": url.path.lstrip("/") or "postgres",
            "POSTGRES_HOST": url.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": unquote(url.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(url.password or ""),
            "POSTGRES_POOL_SIZE": str(settings.postgres_pool_size),
            "POSTGRES_MAX_OVERFLOW": str(settings.postgres_max_overflow),
            "POSTGRES_LOCK_TIMEOUT": str(settings.postgres_lock_timeout_seconds),
            "POSTGRES_SCHEMA": settings.postgres_schema,
        }
    else:
        msg = f"RANTAI_DATABASE_URL must start with sqlite:/// or postgresql:// (got {url.scheme}://)"
        raise ValueError(msg)
    return env


def sqlite_path(settings: Settings) -> Path:
    """The SQLite event store's file (its folder created)."""
    url = urlparse(settings.database_url)
    path = Path(unquote(url.path.removeprefix("/")) if url.netloc == "" else url.netloc + url.path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path
