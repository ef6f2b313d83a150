"""An append-only Merkle tree in the shape of RFC 9162 §2.1 (Certificate
Transparency 2.0, the same hashing as RFC 6962).

Leaf hash ``SHA-256(0x00 || leaf)``, interior node ``SHA-256(0x01 || left || right)``,
the root of ``n`` leaves split at the largest power of two below ``n``. With
the two prefixes no leaf can pass for a node, and so a proof cannot be forged
by presenting an interior node as a leaf.

The tree of the event log is too big to hold in memory, so the proofs here
ask a ``NodeSource`` for the hashes of *perfect* subtrees (``2**level``
leaves starting at ``index * 2**level``): every range the RFC's proofs need
splits into such subtrees. ``Frontier`` computes a root while leaves stream
past, holding one hash per set bit of the size. Pure code: the store that
keeps the nodes lives in ``projections/seal.py``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeSource = Callable[[int, int], bytes]  # (level, index) -> hash of that perfect subtree


class ProofError(ValueError):
    """A proof does not prove what it claims."""


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(size: int) -> int:
    """The largest power of two smaller than ``size`` (``size`` > 1)."""
    return 1 << ((size - 1).bit_length() - 1)


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of a list of leaf hashes, straight from the RFC's definition (tests, small trees)."""
    if not leaf_hashes:
        return EMPTY_ROOT
    if len(leaf_hashes) == 1:
        return leaf_hashes[0]
    k = split_point(len(leaf_hashes))
    return node_hash(root_of(leaf_hashes[:k]), root_of(leaf_hashes[k:]))


def perfect_root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of ``2**k`` leaf hashes, a level at a time (faster than ``root_of`` for a verifier's chunks)."""
    sha, level = hashlib.sha256, list(leaf_hashes)
    if not level or len(level) & (len(level) - 1):
        raise ValueError(f"{len(level)} leaves are not a perfect subtree")
    while len(level) > 1:
        level = [sha(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level), 2)]
    return level[0]


def range_hash(lo: int, hi: int, node: NodeSource) -> bytes:
    """MTH of leaves ``lo .. hi-1``, from perfect subtrees."""
    size = hi - lo
    if size <= 0:
        return EMPTY_ROOT
    if size & (size - 1) == 0 and lo % size == 0:
        level = size.bit_length() - 1
        return node(level, lo >> level)
    k = split_point(size)
    return node_hash(range_hash(lo, lo + k, node), range_hash(lo + k, hi, node))


def inclusion_proof(index: int, size: int, node: NodeSource) -> list[bytes]:
    """PATH(index, D[size]) of RFC 9162 §2.1.3.1: the sibling hashes from the leaf up."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size}")
    path: list[bytes] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = split_point(hi - lo)
        if index < lo + k:
            path.append(range_hash(lo + k, hi, node))
            hi = lo + k
        else:
            path.append(range_hash(lo, lo + k, node))
            lo += k
    return path[::-1]


def consistency_proof(old_size: int, size: int, node: NodeSource) -> list[bytes]:
    """PROOF(old_size, D[size]) of RFC 9162 §2.1.4.1."""
    if not 0 <= old_size <= size:
        raise ProofError(f"a tree of {size} cannot extend one of {old_size}")
    if old_size in (0, size):
        return []
    proof: list[bytes] = []
    lo, hi, m, whole = 0, size, old_size, True  # m: the old tree's leaves within lo .. hi-1
    while m != hi - lo:
        k = split_point(hi - lo)
        if m <= k:
            proof.append(range_hash(lo + k, hi, node))
            hi = lo + k
        else:
            proof.append(range_hash(lo, lo + k, node))
            lo, m, whole = lo + k, m - k, False
    if not whole:
        proof.append(range_hash(lo, hi, node))
    return proof[::-1]


def root_from_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes]) -> bytes:
    """The root that ``path`` proves for leaf hash ``leaf`` at ``index`` (RFC 9162 §2.1.3.2)."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size}")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise ProofError("the inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the inclusion proof is too short")
    return r


def verify_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes], root: bytes) -> None:
    if root_from_inclusion(index, size, leaf, path) != root:
        raise ProofError(f"leaf {index} is not in the tree of {size} with that root")


def verify_consistency(old_size: int, size: int, old_root: bytes, root: bytes, proof: Sequence[bytes]) -> None:
    """RFC 9162 §2.1.4.2: the tree (``size``, ``root``) extends (``old_size``, ``old_root``)."""
    if not 0 <= old_size <= size:
        raise ProofError(f"a tree of {size} cannot extend one of {old_size}")
    if old_size == 0 or old_size == size:
        if proof or (old_size == size and old_root != root):
            raise ProofError("the trees differ")
        return
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    if not path:
        raise ProofError("the consistency proof is empty")
    fn, sn = old_size - 1, size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is too long")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0 or fr != old_root or sr != root:
        raise ProofError(f"the tree of {size} does not extend the one of {old_size} with that root")


class Frontier:
    """The right edge of a growing tree: one perfect subtree per set bit of its size.

    ``append`` answers the subtrees it completed (level >= 1) as
    ``(level, index, hash)``, so a store can keep every node as it appears."""

    def __init__(self, size: int = 0, edge: Sequence[bytes] = ()) -> None:
        self.size = size
        self.edge = list(edge)  # hashes of the subtrees of size's set bits, largest first
        if len(self.edge) != size.bit_count():
            raise ValueError(f"a tree of {size} has {size.bit_count()} subtrees on its edge, not {len(self.edge)}")

    @staticmethod
    def edge_of(size: int) -> Iterator[tuple[int, int]]:
        """The ``(level, index)`` of each subtree on the edge of a tree of ``size``, largest first."""
        start = 0
        for level in range(size.bit_length() - 1, -1, -1):
            if size >> level & 1:
                yield level, start >> level
                start += 1 << level

    def append(self, leaf: bytes, level: int = 0) -> list[tuple[int, int, bytes]]:
        """Add a leaf hash, or (``level`` > 0) the hash of a perfect subtree of ``2**level`` leaves,
        which must start where the tree ends on a multiple of its size."""
        if self.size & ((1 << level) - 1):
            raise ValueError(f"a subtree of {1 << level} leaves cannot start at leaf {self.size}")
        index, h = self.size >> level, leaf
        self.size += 1 << level
        completed = []
        while index & 1:
            h = node_hash(self.edge.pop(), h)
            level, index = level + 1, index >> 1
            completed.append((level, index, h))
        self.edge.append(h)
        return completed

    def root(self) -> bytes:
        if not self.edge:
            return EMPTY_ROOT
        r = self.edge[-1]
        for h in reversed(self.edge[:-1]):
            r = node_hash(h, r)
        return r
