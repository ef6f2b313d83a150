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

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from uuid import UUID

from domain.merkle import (
    Frontier,
    ProofError,
    consistency_proof,
    leaf_hash,
    perfect_root,
    verify_consistency,
)
from projections.checkpoints import BadCheckpoint, Checkpoint, Key, read_any
from projections.leaf_stream import READ_PAGE, leaf_pages
from projections.seal import Leaf, Row, SealStore, leaf_of

CHUNK_LEVEL = 10  # sealed leaves are compared 2**10 at a time, through their stored subtree
FIRST_POSSIBLE = -(2**63)  # the smallest position a row can be given (64-bit)
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


@dataclass
class Walk:
    """One pass of ``Verifier.verify``: the recomputed tree so far and what is still to compare."""

    report: Report
    roots: dict[int, list[tuple[str, bytes]]]  # checkpoints' roots, by size, not yet reached
    frontier: Frontier = field(default_factory=Frontier)
    chunk_after: int = 0  # the log position before the next chunk
    sealed_after: int = 0  # the log position of the last sealed row (the rows after it are decrypted)
    differs: bool = False  # the first differing event is named; later ones would only repeat it
    sealed_root: bytes | None = None
    stored: dict[int, bytes] = field(default_factory=dict)  # stored chunk subtrees, fetched a page at a time

    def reached(self, frontier: Frontier) -> None:
        """The tree has grown to ``frontier.size`` leaves: compare the roots wanted at that size."""
        if frontier.size == self.report.sealed:
            self.sealed_root = frontier.root()
        for label, wanted in self.roots.pop(frontier.size, []):
            if wanted != frontier.root():
                self.report.findings.append(Finding((1, frontier.size), f"TAMPERED: the log no longer extends "
                                                    f"{label}: its first {frontier.size} events hash to another root"))


class Verifier:
    def __init__(self, store: SealStore, decrypt: Callable[[bytes], object],
                 keys: Sequence[Key] | None, helper: bool = True) -> None:
        self.store = store
        self.helper = helper  # a helper process reads and hashes part of the log (where it can be forked)
        self.decrypt = decrypt  # raises on a row that was not encrypted with the event store's key
        self.keys = keys  # the keys checkpoints may be signed with (the current one, those it replaced); None: none

    def verify(self, brought: Checkpoint | None = None,
               on_page: Callable[[int], None] | None = None) -> Report:
        report = Report()
        report.sealed, _ = self.store.sealed()
        walk = Walk(report, self.checkpoint_roots(report, brought))
        walk.reached(walk.frontier)  # the empty tree: a checkpoint of size 0, nothing sealed yet
        chunk = 1 << CHUNK_LEVEL
        positions: list[int] = []
        hashes: list[bytes] = []
        for page_positions, page_hashes in leaf_pages(self.store, self.store.head(), self.helper):
            positions += page_positions
            hashes += page_hashes
            taken = 0
            while len(positions) - taken >= chunk:
                self.take(walk, positions[taken:taken + chunk], hashes[taken:taken + chunk])
                taken += chunk
            del positions[:taken], hashes[:taken]
            if on_page:
                on_page(walk.frontier.size)
        start, before = walk.frontier.size, walk.chunk_after
        self.take(walk, positions, hashes)  # the last, partial chunk
        report.rows, report.root = walk.frontier.size, walk.frontier.root()
        if report.rows > report.sealed:
            self.check_unsealed(walk.sealed_after, walk.chunk_after, report)
        self.check_before_the_first(report)
        if not walk.differs and start < report.sealed:  # the sealed leaves after the last whole chunk
            self.locate(start, report.sealed, before, report, whole_chunk=False)
        for size, expected in walk.roots.items():
            for label, _ in expected:
                report.findings.append(Finding((1, size), f"TAMPERED: {label} covers {size} events; the log now "
                                                          f"has {report.rows}: sealed events were deleted"))
        if brought is not None and report.clean:
            self.prove_extension(brought, report, walk.sealed_root)
        return report

    def take(self, walk: Walk, positions: list[int], hashes: list[bytes]) -> None:
        """Add a chunk of rows (a whole, aligned one, or the last) to the recomputed tree and compare it.

        The usual chunk is hashed a level at a time and added as one subtree; a chunk
        holding a checkpoint's size, the end of the sealed leaves or the last rows goes leaf
        by leaf, so that the roots at those sizes are known."""
        if not positions:
            return
        sealed, frontier = walk.report.sealed, walk.frontier
        start, end = frontier.size, frontier.size + len(positions)
        if start < sealed <= end:
            walk.sealed_after = positions[sealed - start - 1]
        subtree = perfect_root(hashes) if len(positions) == 1 << CHUNK_LEVEL else None
        if subtree is not None and end <= sealed and not walk.differs \
                and subtree != self.stored_node(walk, start >> CHUNK_LEVEL):
            walk.differs = self.locate(start, end, walk.chunk_after, walk.report)
        wanted_inside = start < sealed < end or any(start < size < end for size in walk.roots)
        if subtree is not None and not wanted_inside:
            frontier.append(subtree, CHUNK_LEVEL)
            walk.reached(frontier)
        else:
            for h in hashes:
                frontier.append(h)
                walk.reached(frontier)
        walk.chunk_after = positions[-1]

    def stored_node(self, walk: Walk, index: int) -> bytes | None:
        if index not in walk.stored:
            walk.stored = self.store.nodes(CHUNK_LEVEL, index, index + READ_PAGE // (1 << CHUNK_LEVEL) + 1)
        return walk.stored.get(index)

    def checkpoint_roots(self, report: Report, brought: Checkpoint | None) -> dict[int, list[tuple[str, bytes]]]:
        """size -> (label, root) of every checkpoint whose signature verifies (the others are findings)."""
        roots: dict[int, list[tuple[str, bytes]]] = {}
        notes = [(f"the stored checkpoint of size {size}", note) for size, _, note in self.store.checkpoints()]
        if brought is not None:
            notes.append((f"the checkpoint brought (size {brought.size})", brought.note))
        if notes and not self.keys:
            raise BadCheckpoint("no public key to check the checkpoints with (configure the signing key or give --key)")
        for label, note in notes:
            try:
                checkpoint = read_any(note, self.keys)
            except BadCheckpoint as error:
                report.findings.append(Finding((1, -1), f"TAMPERED: {label}: {error}"))
                continue
            roots.setdefault(checkpoint.size, []).append((label, checkpoint.root))
            report.checkpoints += 1
        return roots

    def check_before_the_first(self, report: Report) -> None:
        """Log positions start at 1: a row at 0 or below was put there by hand (the application would
        still load it as part of its aggregate, and neither the sealer nor the walk reads it)."""
        rows = self.store.rows(FIRST_POSSIBLE, 1)
        if rows and rows[0][0] <= 0:
            report.findings.append(Finding((0, -1), "TAMPERED: an event at a log position where none can be (the "
                                                    f"log starts at 1): {describe_row(rows[0])}"))

    def check_unsealed(self, after: int, upto: int, report: Report) -> None:
        """Decrypt each row the sealer has not reached yet (after log position ``after``, up to ``upto``)."""
        for rows in self.store.rows_upto(after, upto, READ_PAGE):
            for row in rows:
                try:
                    self.decrypt(row[4])
                except Exception:  # AES-GCM refuses it: forged without the key, or damaged
                    report.findings.append(Finding((0, report.sealed), "TAMPERED: an event not yet sealed does not "
                                                                       f"decrypt (forged or damaged): {describe_row(row)}"))

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
