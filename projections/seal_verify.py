"""Verifying the sealed log: recompute the tree from the stored rows and
compare it with the sealed tree and with every checkpoint.

One pass over the rows, in log order. Each row is hashed as the sealer hashed
it; every 1,024 sealed leaves the recomputed subtree is compared with the
stored one (one lookup, not 1,024), and only a subtree that differs is read
leaf by leaf to name the first event that differs: its aggregate, version and
log position, and what happened to it (changed, deleted, inserted, moved).
Rows the sealer has not reached yet are decrypted instead (AES-GCM refuses a
row forged without the key). Each checkpoint's signature is checked and its
root compared with the root of the same number of rows, computed as the rows
stream past; a checkpoint the auditor brings is also checked by a consistency
proof from the sealed tree (RFC 9162 §2.1.4), the proof an outsider would be
given.

What this cannot see: a log rewritten together with its sealed tree and
stored checkpoints by someone holding the signing key. An auditor's own copy
of a checkpoint (``--checkpoint``) still catches that, which is why they keep
one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from domain.merkle import EMPTY_ROOT, Frontier, ProofError, consistency_proof, leaf_hash, verify_consistency
from projections.checkpoints import BadCheckpoint, Checkpoint, read
from projections.seal import Leaf, Row, SealStore, leaf_of

CHUNK_LEVEL = 10  # sealed leaves are compared 2**10 at a time, through their stored subtree
READ_PAGE = 10_000
LOOK_AHEAD = 256  # rows and leaves read past the first difference, to tell a deletion from an insertion


@dataclass(frozen=True)
class Finding:
    order: tuple[int, int]  # (0: an event, 1: a checkpoint; leaf number): the first one is reported first
    text: str


@dataclass
class Report:
    rows: int = 0
    sealed: int = 0
    root: bytes = b""
    checkpoints: int = 0  # checkpoints checked
    consistency: list[bytes] | None = None  # the proof that the log extends the auditor's checkpoint
    findings: list[Finding] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.findings

    def lines(self) -> list[str]:
        return [f.text for f in sorted(self.findings, key=lambda f: f.order)]


def aggregate(originator_id: str, topic: str) -> str:
    kind = topic.partition(":")[2] or topic
    return f"aggregate {UUID(hex=originator_id)} ({kind})"


def describe_row(row: Row) -> str:
    return f"{aggregate(row[1], row[3])}, version {row[2]}, log position {row[0]}"


def describe_leaf(leaf: Leaf) -> str:
    return f"{aggregate(leaf.originator_id, leaf.topic)}, version {leaf.version}, log position {leaf.notification_id}"


class Verifier:
    def __init__(self, store: SealStore, decrypt: Callable[[bytes], object],
                 key: tuple[str, Ed25519PublicKey] | None) -> None:
        self.store = store
        self.decrypt = decrypt  # raises on a row that was not encrypted with the event store's key
        self.key = key  # (name, public key) the checkpoints are signed with; None: they cannot be checked

    def verify(self, brought: Checkpoint | None = None,
               on_page: Callable[[int], None] | None = None) -> Report:
        report = Report()
        report.sealed, _ = self.store.sealed()
        roots = self.checkpoint_roots(report, brought)
        frontier = Frontier()
        chunk = 1 << CHUNK_LEVEL
        chunk_start, chunk_after = 0, 0  # the current chunk's first leaf, and the log position before it
        differs = False  # the first differing event is named; later ones would only repeat it
        after = 0
        sealed_root = EMPTY_ROOT if report.sealed == 0 else None
        while rows := self.store.rows(after, READ_PAGE):
            stored = self.store.nodes(CHUNK_LEVEL, frontier.size >> CHUNK_LEVEL,
                                      ((frontier.size + len(rows)) >> CHUNK_LEVEL) + 1)
            for row in rows:
                n = frontier.size
                completed = frontier.append(leaf_hash(leaf_of(row)))
                if n >= report.sealed:
                    self.check_unsealed(row, report)
                elif (n + 1) % chunk == 0:
                    if not differs and completed[CHUNK_LEVEL - 1][2] != stored.get(n >> CHUNK_LEVEL):
                        differs = self.locate(chunk_start, n + 1, chunk_after, report)
                    chunk_start, chunk_after = n + 1, row[0]
                if frontier.size in roots:
                    self.compare_roots(frontier, roots.pop(frontier.size), report)
                if frontier.size == report.sealed:
                    sealed_root = frontier.root()
            after = rows[-1][0]
            if on_page:
                on_page(frontier.size)
        report.rows, report.root = frontier.size, frontier.root()
        if not differs and chunk_start < report.sealed:  # the sealed leaves after the last whole chunk
            self.locate(chunk_start, report.sealed, chunk_after, report, whole_chunk=False)
        for size, expected in roots.items():
            for label, _ in expected:
                report.findings.append(Finding((1, size), f"TAMPERED: {label} covers {size} events; the log now "
                                                          f"has {report.rows}: sealed events were deleted"))
        if brought is not None and report.clean:
            self.prove_extension(brought, report, sealed_root)
        return report

    def checkpoint_roots(self, report: Report, brought: Checkpoint | None) -> dict[int, list[tuple[str, bytes]]]:
        """size -> (label, root) of every checkpoint whose signature verifies (the others are findings)."""
        roots: dict[int, list[tuple[str, bytes]]] = {}
        notes = [(f"the stored checkpoint of size {size}", note) for size, _, note in self.store.checkpoints()]
        if brought is not None:
            notes.append((f"the checkpoint brought (size {brought.size})", brought.note))
        if notes and self.key is None:
            raise BadCheckpoint("no public key to check the checkpoints with (configure the signing key or give --key)")
        for label, note in notes:
            try:
                checkpoint = read(note, *self.key)
            except BadCheckpoint as error:
                report.findings.append(Finding((1, -1), f"TAMPERED: {label}: {error}"))
                continue
            roots.setdefault(checkpoint.size, []).append((label, checkpoint.root))
            report.checkpoints += 1
        return roots

    def compare_roots(self, frontier: Frontier, expected: list[tuple[str, bytes]], report: Report) -> None:
        root = frontier.root()
        for label, wanted in expected:
            if wanted != root:
                report.findings.append(Finding((1, frontier.size), f"TAMPERED: the log no longer extends {label}: "
                                               f"its first {frontier.size} events hash to another root"))

    def check_unsealed(self, row: Row, report: Report) -> None:
        try:
            self.decrypt(row[4])
        except Exception:  # AES-GCM refuses it: forged without the key, or damaged
            report.findings.append(Finding((0, report.sealed), "TAMPERED: an event not yet sealed does not decrypt "
                                                               f"(forged or damaged): {describe_row(row)}"))

    def locate(self, lo: int, hi: int, after: int, report: Report, whole_chunk: bool = True) -> bool:
        """Compare sealed leaves ``lo .. hi-1`` with the rows after log position ``after``, one by one;
        record the first difference. Answers whether there was one (for a ``whole_chunk`` whose stored
        subtree differed, there is one: if no leaf differs, the stored subtree was edited)."""
        rows = self.store.rows(after, hi - lo + LOOK_AHEAD)
        leaves = self.store.leaves(lo, hi + LOOK_AHEAD)
        for j in range(hi - lo):
            if j >= len(leaves):
                report.findings.append(Finding((0, lo + j), f"TAMPERED: the sealed leaf {lo + j} is missing "
                                                            "(the seal's own tables were edited)"))
                return True
            leaf = leaves[j]
            row = rows[j] if j < len(rows) else None
            if row is not None and leaf_hash(leaf_of(row)) == leaf.hash:
                continue
            report.findings.append(Finding((0, lo + j), "TAMPERED: " + self.what_happened(leaf, row, j, rows, leaves)))
            return True
        if not whole_chunk:
            return False
        report.findings.append(Finding((0, hi), f"TAMPERED: the sealed tree's node over leaves {lo}..{hi - 1} "
                                                "differs from its leaves (the seal's own tables were edited)"))
        return True

    @staticmethod
    def what_happened(leaf: Leaf, row: Row | None, j: int, rows: list[Row], leaves: list[Leaf]) -> str:
        if row is None:
            return f"event deleted: {describe_leaf(leaf)} (the log ends before it)"
        if (row[1], row[2]) == leaf.key:
            return f"event changed: {describe_row(row)}"
        leaf_later = leaf.key in {(r[1], r[2]) for r in rows[j + 1:]}
        row_later = (row[1], row[2]) in {x.key for x in leaves[j + 1:]}
        if leaf_later and row_later:
            return f"events reordered: {describe_leaf(leaf)} is no longer in its place (it now holds " \
                   f"{aggregate(row[1], row[3])}, version {row[2]})"
        if row_later:
            return f"event deleted: {describe_leaf(leaf)}"
        if leaf_later:
            return f"event inserted: {describe_row(row)} is not in the sealed log (it stands before " \
                   f"log position {leaf.notification_id})"
        return f"event replaced: {describe_leaf(leaf)} now holds {describe_row(row)}"

    def prove_extension(self, brought: Checkpoint, report: Report, sealed_root: bytes | None) -> None:
        """The consistency proof, from the sealed tree, that today's log extends ``brought``."""
        if brought.size > report.sealed or sealed_root is None:
            return  # its root was compared with the rows' own (not yet sealed this far)
        try:
            proof = consistency_proof(brought.size, report.sealed, self.store.node)
            verify_consistency(brought.size, report.sealed, brought.root, sealed_root, proof)
        except (ProofError, KeyError):
            report.findings.append(Finding((1, brought.size), "TAMPERED: the sealed tree cannot prove that the "
                                                              f"log extends the checkpoint of size {brought.size}"))
            return
        report.consistency = proof


def decrypter(env: dict[str, str], application: str = "campaign") -> Callable[[bytes], object]:
    """The event store's own decryption (AES-GCM: it refuses what was not sealed with its key)."""
    from eventsourcing.cryptography import AESCipher
    from eventsourcing.utils import Environment

    return AESCipher(Environment(application, env)).decrypt
