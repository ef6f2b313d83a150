"""Inclusion proofs of one stored event, as a JSON document an outsider checks
with a checkpoint and the log's public key alone.

The document (``rantai-inclusion-proof/1``) holds the checkpoint it is for,
the stored row exactly as stored (its state encrypted: no personal data),
the leaf's number and the RFC 9162 audit path in hex. Any RFC 9162
implementation can check it: the leaf is ``hex id \\n version \\n topic \\n``
followed by the state (``projections.seal.leaf_of``).
"""

from __future__ import annotations

import base64
from typing import Any

from domain.merkle import inclusion_proof, leaf_hash, verify_inclusion
from projections.checkpoints import Checkpoint
from projections.seal import Leaf, Row, SealStore, leaf_of

FORMAT = "rantai-inclusion-proof/1"


class RowNotSealed(ValueError):
    """The stored row is not the one that was sealed: the log was changed."""


class UnreadableProof(ValueError):
    """Not an inclusion proof document."""


def proof_document(store: SealStore, leaf: Leaf, checkpoint: Checkpoint) -> dict[str, Any]:
    """The proof that ``leaf``'s stored row is in the log ``checkpoint`` describes."""
    rows = store.rows(leaf.notification_id - 1, 1)
    if not rows or rows[0][0] != leaf.notification_id or leaf_hash(leaf_of(rows[0])) != leaf.hash:
        raise RowNotSealed(f"the stored row at log position {leaf.notification_id} is not the sealed one "
                           "(run rantai audit verify)")
    row = rows[0]
    return {
        "format": FORMAT,
        "checkpoint": checkpoint.note,
        "tree_size": checkpoint.size,
        "leaf_index": leaf.index,
        "event": {"log_position": row[0], "originator_id": row[1], "version": row[2], "topic": row[3],
                  "state": base64.b64encode(row[4]).decode()},
        "leaf_hash": leaf.hash.hex(),
        "path": [h.hex() for h in inclusion_proof(leaf.index, checkpoint.size, store.node)],
    }


def read_proof(proof: Any) -> tuple[Row, int, int, list[bytes], str]:
    """(row, leaf number, tree size, path, checkpoint note) of a proof document; ``UnreadableProof`` if it is not one."""
    try:
        event = proof["event"]
        row = (int(event["log_position"]), str(event["originator_id"]), int(event["version"]),
               str(event["topic"]), base64.b64decode(event["state"], validate=True))
        return (row, int(proof["leaf_index"]), int(proof["tree_size"]), [bytes.fromhex(h) for h in proof["path"]],
                str(proof["checkpoint"]))
    except (ValueError, KeyError, TypeError) as error:
        raise UnreadableProof(f"not an inclusion proof ({type(error).__name__})") from None


def check(row: Row, index: int, path: list[bytes], checkpoint: Checkpoint) -> None:
    """``ProofError`` unless ``row`` is leaf ``index`` of the log ``checkpoint`` describes."""
    verify_inclusion(index, checkpoint.size, leaf_hash(leaf_of(row)), path, checkpoint.root)
