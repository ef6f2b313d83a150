"""``rantai audit verify`` against an attacker who edits the stored rows
directly (SQLite and PostgreSQL): every kind of edit is caught, and the
first line names the event that differs (aggregate, version, log position)."""

from __future__ import annotations

import pytest

from projections import leaf_stream, seal_verify
from projections.checkpoints import new_signing_key
from tests.audit.tamper import Attacker

KEY = new_signing_key()


@pytest.fixture(params=[(2, None), (seal_verify.CHUNK_LEVEL, None), (2, 8)],
                ids=["chunks-of-4", "chunks-of-1024", "chunks-of-4-helper-blocks-of-8"])
def audit(request, rantai, chain, settings, monkeypatch):
    """A cold chain with a few dozen events, sealed under a checkpoint; the attacker's connection.
    In the helper case a helper process reads and hashes most blocks of 8 log positions."""
    chunk_level, block = request.param
    monkeypatch.setenv("RANTAI_CHECKPOINT_KEY", KEY)
    monkeypatch.setattr(seal_verify, "CHUNK_LEVEL", chunk_level)
    if block is not None:
        monkeypatch.setattr(leaf_stream, "BLOCK", block)
    chain.release("CV001", 500)
    for destination in ("32", "31"):
        chain.receive_all(chain.ship("BIOFARMA", destination, ("CV001", 40)))
    assert rantai("audit", "checkpoint").exit_code == 0
    attacker = Attacker(settings)
    yield rantai, attacker, chain
    attacker.close()


def first_line(result) -> str:
    return result.stdout.splitlines()[0]


def test_an_untouched_log_verifies(audit) -> None:
    rantai, attacker, chain = audit
    # Given more events after the checkpoint (not yet sealed)
    chain.receive_all(chain.ship("32", "32.73", ("CV001", 10)))
    # When
    result = rantai("audit", "verify")
    # Then
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("OK")


def change_a_byte(attacker: Attacker, chain) -> tuple[str, tuple[int, str, int]]:
    row = attacker.rows()[13]
    attacker.flip_a_byte(row[0])
    return "event changed", row


def delete_a_middle_event(attacker: Attacker, chain) -> tuple[str, tuple[int, str, int]]:
    row = attacker.rows()[9]
    attacker.delete(row[0])
    return "event deleted", row


def delete_the_newest_event(attacker: Attacker, chain) -> tuple[str, tuple[int, str, int]]:
    row = attacker.rows()[-1]
    attacker.delete(row[0])
    return "event deleted", row


def delete_the_newest_event_then_write_one(attacker: Attacker, chain) -> tuple[str, tuple[int, str, int]]:
    row = attacker.rows()[-1]
    attacker.delete(row[0])
    chain.release("CV002", 10)  # SQLite may give the new event the deleted one's id
    return "event replaced", row


def swap_two_events(attacker: Attacker, chain) -> tuple[str, tuple[int, str, int]]:
    rows = attacker.rows()
    attacker.swap(rows[5][0], rows[17][0])
    return "events reordered", rows[5]


def insert_a_forged_event_between_others(attacker: Attacker, chain) -> tuple[str, tuple[int, str, int]]:
    rows = attacker.rows()
    position, forged = attacker.insert_after(rows[11][0], decryptable_state_of=rows[3][0])
    return "event inserted", (position, forged, 1)


def append_a_forged_event(attacker: Attacker, chain) -> tuple[str, tuple[int, str, int]]:
    position, forged = attacker.append_forged()
    return "an event not yet sealed does not decrypt", (position, forged, 1)


def forge_an_event_before_the_first(attacker: Attacker, chain) -> tuple[str, tuple[int, str, int]]:
    position, forged = attacker.append_forged()
    attacker.run("UPDATE {t} SET {id} = ? WHERE {id} = ?", (-5, position))  # where neither sealer nor walk reads
    return "an event at a log position where none can be", (-5, forged, 1)


def forge_an_event_at_a_far_position(attacker: Attacker, chain) -> tuple[str, tuple[int, str, int]]:
    position, forged = attacker.append_forged()
    far = 2**62  # (verify reads the rows there are: the gap costs one lookup, not 2**62 / 20,000 queries)
    attacker.run("UPDATE {t} SET {id} = ? WHERE {id} = ?", (far, position))
    return "an event not yet sealed does not decrypt", (far, forged, 1)


@pytest.mark.parametrize("attack", [
    change_a_byte, delete_a_middle_event, delete_the_newest_event, delete_the_newest_event_then_write_one,
    swap_two_events, insert_a_forged_event_between_others, append_a_forged_event, forge_an_event_before_the_first,
    forge_an_event_at_a_far_position,
], ids=lambda attack: attack.__name__)
def test_verify_names_the_first_event_that_differs(audit, attack) -> None:
    rantai, attacker, chain = audit
    # Given an attacker's edit of the stored rows
    what, (position, aggregate, version) = attack(attacker, chain)
    # When
    result = rantai("audit", "verify")
    # Then
    assert result.exit_code == 1, result.output
    line = first_line(result)
    assert line.startswith(f"TAMPERED: {what}"), line
    assert f"aggregate {aggregate} " in line and f"version {version}," in line, line
    assert f"log position {position}" in line, line


def test_a_kept_checkpoint_verifies_after_more_events_and_fails_after_history_is_rewritten(audit, tmp_path) -> None:
    rantai, attacker, chain = audit
    # Given an auditor's copy of a checkpoint, and more events since
    kept = tmp_path / "checkpoint.txt"
    assert rantai("audit", "checkpoint", "--out", str(kept)).exit_code == 0
    chain.receive_all(chain.ship("31", "31.71", ("CV001", 5)))
    assert rantai("audit", "checkpoint").exit_code == 0
    result = rantai("audit", "verify", "--checkpoint", str(kept))
    assert result.exit_code == 0, result.output
    assert "extends the checkpoint" in result.stdout and "consistency proof" in result.stdout
    # When history is rewritten and sealed anew (the seal's tables and stored checkpoints thrown away)
    attacker.flip_a_byte(attacker.rows()[4][0])
    attacker.wipe_the_seal()
    assert rantai("audit", "checkpoint").exit_code == 0
    assert rantai("audit", "verify").exit_code == 0  # nothing left in the store to compare with...
    # Then the auditor's copy catches it
    result = rantai("audit", "verify", "--checkpoint", str(kept))
    assert result.exit_code == 1
    assert first_line(result).startswith("TAMPERED: the log no longer extends the checkpoint brought")


def test_a_checkpoint_whose_signature_fails_is_tampering_and_an_unreadable_one_a_usage_error(audit, tmp_path) -> None:
    rantai, _, _ = audit
    note = rantai("audit", "checkpoint").stdout
    origin, size, root, *rest = note.split("\n")
    forged = tmp_path / "forged.txt"
    forged.write_text("\n".join([origin, str(int(size) + 1), root, *rest]))
    result = rantai("audit", "verify", "--checkpoint", str(forged))
    assert result.exit_code == 1 and first_line(result).startswith("TAMPERED"), result.output
    garbage = tmp_path / "garbage.txt"
    garbage.write_text("not a checkpoint")
    assert rantai("audit", "verify", "--checkpoint", str(garbage)).exit_code == 2
    assert rantai("audit", "verify", "--checkpoint", str(tmp_path / "missing.txt")).exit_code == 2
