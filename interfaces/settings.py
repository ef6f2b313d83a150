"""Settings (environment, prefix ``RANTAI_``) and the one function that turns
them into the eventsourcing environment."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SQLITE = Path("var") / "rantai.sqlite"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RANTAI_", env_file=".env", extra="ignore")

    database_url: str = f"sqlite:///{DEFAULT_SQLITE}"
    gs1_company_prefix: str = "8992806"
    create_tables: bool = False
    postgres_pool_size: int = 5
    postgres_max_overflow: int = 10
    postgres_lock_timeout_seconds: int = 5
    postgres_schema: str = "public"


def event_store_env(settings: Settings, *, create_tables: bool | None = None) -> dict[str, str]:
    """The eventsourcing environment for ``settings`` (SQLite file or PostgreSQL)."""
    create = settings.create_tables if create_tables is None else create_tables
    env = {
        "GS1_COMPANY_PREFIX": settings.gs1_company_prefix,
        "CREATE_TABLE": "y" if create else "n",
    }
    url = urlparse(settings.database_url)
    if url.scheme == "sqlite":
        path = Path(unquote(url.path.removeprefix("/")) if url.netloc == "" else url.netloc + url.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        env |= {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)}
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
