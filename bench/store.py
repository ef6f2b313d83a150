"""What the benchmarks share: the store's settings, a fresh store per run, and
the results they write to ``bench/results/``."""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path

import psycopg
from eventsourcing.cryptography import AESCipher

from interfaces.settings import Settings, event_store_env

RESULTS = Path(__file__).parent / "results"
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
# Settings that move the figures, recorded with them (os.environ overrides any).
CONFIG = ("CIPHER_TOPIC", "AGGREGATE_CACHE_MAXSIZE", "AGGREGATE_CACHE_FASTFORWARD", "COMPRESSOR_TOPIC")


def settings(url: str, **fields: str) -> Settings:
    """The configured settings for ``url``; fresh secrets if none are configured."""
    found = Settings(database_url=url, **fields)
    if found.cipher_key and found.nik_secret:
        return found
    fresh = {"cipher_key": AESCipher.create_key(32), "nik_secret": secrets.token_urlsafe(32)}
    return found.model_copy(update=fresh)


def backend(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgres"


@contextmanager
def fresh_settings(url: str, **fields: str) -> Iterator[Settings]:
    """Settings naming a new, empty store: on PostgreSQL a new schema, dropped
    afterwards; on SQLite ``url`` names a file that must not exist yet (kept)."""
    if backend(url) == "sqlite":
        found = settings(url, **fields)
        path = Path(event_store_env(found)["SQLITE_DBNAME"])
        if path.exists():
            raise SystemExit(f"{path} exists: name a new SQLite file for each run.")
        yield found
        return
    schema, conninfo = f"bench_{secrets.token_hex(4)}", url.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield settings(url, postgres_schema=schema, **fields)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@contextmanager
def fresh_store(url: str) -> Iterator[dict[str, str]]:
    """The eventsourcing env of a fresh store (see ``fresh_settings``), tables created on first use."""
    with fresh_settings(url) as found:
        yield event_store_env(found, create_tables=True)


def redacted(url: str) -> str:
    """``url`` without its password."""
    return re.sub(r":[^:@/]*@", ":***@", url)


def machine() -> dict[str, object]:
    return {"nproc": len(os.sched_getaffinity(0)), "eventsourcing": version("eventsourcing")}


def write_result(result: dict[str, object]) -> Path:
    """``bench/results/<benchmark>-<backend>.json``; answers its path."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{result['benchmark']}-{result['backend']}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    return path
