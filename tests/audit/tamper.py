"""An attacker with the database owner's rights: edits the stored rows directly,
the append-only triggers disabled first, as such an attacker would."""

from __future__ import annotations

import os
import sqlite3
import uuid
from typing import Any

import psycopg

from interfaces.settings import Settings, sqlite_path
from tests.conftest import POSTGRES_URL

SHIFT = 1_000_000  # ids moved out of the way and back, so that a unique id never collides midway


class Attacker:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.postgres = settings.database_url.startswith("postgres")
        if self.postgres:
            self.db: Any = psycopg.connect(POSTGRES_URL, autocommit=True)
            self.db.execute(f"SET search_path TO {settings.postgres_schema}")
            self.db.execute("ALTER TABLE campaign_events DISABLE TRIGGER USER")
            self.table, self.id, self.mark = "campaign_events", "notification_id", "%s"
        else:
            self.db = sqlite3.connect(sqlite_path(settings), isolation_level=None)
            self.table, self.id, self.mark = "stored_events", "rowid", "?"

    def run(self, statement: str, params: tuple[Any, ...] = ()) -> list[Any]:
        cursor = self.db.execute(statement.format(t=self.table, id=self.id).replace("?", self.mark), params)
        return cursor.fetchall() if cursor.description else []

    def rows(self) -> list[tuple[int, str, int]]:
        """(log position, aggregate id as a UUID string, version) of every row, in log order."""
        return [(nid, str(uuid.UUID(str(oid))), version) for nid, oid, version in
                self.run("SELECT {id}, originator_id, originator_version FROM {t} ORDER BY {id}")]

    def flip_a_byte(self, position: int) -> None:
        (state,) = self.run("SELECT state FROM {t} WHERE {id} = ?", (position,))[0]
        state = bytearray(state)
        state[len(state) // 2] ^= 0x01
        self.run("UPDATE {t} SET state = ? WHERE {id} = ?", (bytes(state), position))

    def delete(self, position: int) -> None:
        self.run("DELETE FROM {t} WHERE {id} = ?", (position,))

    def swap(self, a: int, b: int) -> None:
        self.run("UPDATE {t} SET {id} = ? WHERE {id} = ?", (-a, a))
        self.run("UPDATE {t} SET {id} = ? WHERE {id} = ?", (a, b))
        self.run("UPDATE {t} SET {id} = ? WHERE {id} = ?", (b, -a))

    def insert_after(self, position: int, decryptable_state_of: int | None = None) -> tuple[int, str]:
        """A forged row right after ``position`` (the later rows moved one on); answers its position and aggregate."""
        self.run("UPDATE {t} SET {id} = {id} + ? WHERE {id} > ?", (SHIFT, position))
        self.run("UPDATE {t} SET {id} = {id} - ? WHERE {id} > ?", (SHIFT - 1, position))
        source = decryptable_state_of or position
        topic, state = self.run("SELECT topic, state FROM {t} WHERE {id} = ?", (source,))[0]
        forged = uuid.uuid4()
        if decryptable_state_of is None:
            state = os.urandom(len(state))
        oid = forged if self.postgres else forged.hex
        self.run("INSERT INTO {t} (originator_id, originator_version, topic, state, {id}) VALUES (?, ?, ?, ?, ?)",
                 (oid, 1, topic, state, position + 1))
        return position + 1, str(forged)

    def append_forged(self) -> tuple[int, str]:
        (last,) = self.run("SELECT MAX({id}) FROM {t}")[0]
        return self.insert_after(last)

    def wipe_the_seal(self) -> None:
        """Throw the sealed tree and the stored checkpoints away (so that a rewrite can be sealed anew)."""
        db = self.db
        if not self.postgres:
            store = sqlite_path(self.settings)
            db = sqlite3.connect(store.with_name(f"{store.stem}.seal{store.suffix}"))
        for table in ("seal_leaves", "seal_nodes", "seal_checkpoints"):
            db.execute(f"DELETE FROM {table}")
        if not self.postgres:
            db.commit()
            db.close()

    def close(self) -> None:
        self.db.close()
