"""The Merkle tree against RFC 6962's published test vectors (the leaves and
roots of Certificate Transparency's own tests), and every proof of small trees
checked both ways: an honest proof verifies, any altered one does not."""

from __future__ import annotations

import pytest

from domain.merkle import (
    EMPTY_ROOT,
    Frontier,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    perfect_root,
    root_of,
    verify_consistency,
    verify_inclusion,
)

LEAVES = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f",
)]
ROOTS = [bytes.fromhex(h) for h in (
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
)]
INCLUSION = {  # (leaf, tree size) -> path, from the same tests
    (0, 8): ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
             "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"],
    (5, 8): ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
             "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"],
    (2, 3): ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    (1, 5): ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
             "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"],
}
CONSISTENCY = {  # (old size, size) -> proof
    (1, 8): ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
             "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"],
    (6, 8): ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
             "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"],
    (2, 5): ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"],
}


def nodes_of(hashes: list[bytes]):
    """A NodeSource over an in-memory list of leaf hashes."""
    return lambda level, index: root_of(hashes[index << level:(index + 1) << level])


HASHES = [leaf_hash(leaf) for leaf in LEAVES]


def test_empty_tree_hashes_nothing() -> None:
    assert root_of([]) == EMPTY_ROOT == bytes.fromhex(
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_rfc6962_vectors(size: int) -> None:
    assert root_of(HASHES[:size]) == ROOTS[size - 1]
    frontier = Frontier()
    for h in HASHES[:size]:
        frontier.append(h)
    assert frontier.root() == ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size"), list(INCLUSION))
def test_inclusion_proofs_match_rfc6962_vectors(index: int, size: int) -> None:
    path = inclusion_proof(index, size, nodes_of(HASHES))
    assert [p.hex() for p in path] == INCLUSION[index, size]
    verify_inclusion(index, size, HASHES[index], path, ROOTS[size - 1])


@pytest.mark.parametrize(("old", "size"), list(CONSISTENCY))
def test_consistency_proofs_match_rfc6962_vectors(old: int, size: int) -> None:
    proof = consistency_proof(old, size, nodes_of(HASHES))
    assert [p.hex() for p in proof] == CONSISTENCY[old, size]
    verify_consistency(old, size, ROOTS[old - 1], ROOTS[size - 1], proof)


def flipped(proof: list[bytes], at: int) -> list[bytes]:
    bad = list(proof)
    bad[at] = bytes([bad[at][0] ^ 1]) + bad[at][1:]
    return bad


def test_every_inclusion_proof_of_small_trees_verifies_and_no_altered_one_does() -> None:
    hashes = [leaf_hash(b"event %d" % i) for i in range(37)]
    for size in range(1, len(hashes) + 1):
        root = root_of(hashes[:size])
        for index in range(size):
            path = inclusion_proof(index, size, nodes_of(hashes))
            verify_inclusion(index, size, hashes[index], path, root)
            with pytest.raises(ProofError):
                verify_inclusion(index, size, leaf_hash(b"forged"), path, root)
            for at in range(len(path)):
                with pytest.raises(ProofError):
                    verify_inclusion(index, size, hashes[index], flipped(path, at), root)
            if size > 1:
                with pytest.raises(ProofError):
                    verify_inclusion((index + 1) % size, size, hashes[index], path, root)


def test_every_consistency_proof_of_small_trees_verifies_and_no_altered_one_does() -> None:
    hashes = [leaf_hash(b"event %d" % i) for i in range(37)]
    roots = [root_of(hashes[:n]) for n in range(len(hashes) + 1)]
    for size in range(1, len(hashes) + 1):
        for old in range(0, size + 1):
            proof = consistency_proof(old, size, nodes_of(hashes))
            verify_consistency(old, size, roots[old], roots[size], proof)
            for at in range(len(proof)):
                with pytest.raises(ProofError):
                    verify_consistency(old, size, roots[old], roots[size], flipped(proof, at))
            if 0 < old < size:
                rewritten = [*hashes[:old - 1], leaf_hash(b"rewritten"), *hashes[old:size]]
                with pytest.raises(ProofError):
                    verify_consistency(old, size, roots[old], root_of(rewritten), proof)


def test_frontier_reports_every_completed_subtree_and_resumes_from_its_edge() -> None:
    hashes = [leaf_hash(b"%d" % i) for i in range(100)]
    frontier, nodes = Frontier(), {}
    for h in hashes:
        for level, index, value in frontier.append(h):
            nodes[level, index] = value
    assert nodes[2, 3] == root_of(hashes[12:16])
    assert nodes[6, 0] == root_of(hashes[:64])
    assert len(nodes) == 100 - 100 .bit_count()  # one interior node per merge
    edge = [nodes[level, index] if level else hashes[index] for level, index in Frontier.edge_of(60)]
    resumed = Frontier(60, edge)
    for h in hashes[60:]:
        resumed.append(h)
    assert resumed.root() == root_of(hashes) == frontier.root()


def test_perfect_subtrees_hash_as_the_rfc_says_and_join_the_frontier_whole() -> None:
    hashes = [leaf_hash(b"%d" % i) for i in range(64)]
    for size in (1, 2, 4, 16, 64):
        assert perfect_root(hashes[:size]) == root_of(hashes[:size])
    with pytest.raises(ValueError):
        perfect_root(hashes[:6])
    frontier = Frontier()
    frontier.append(perfect_root(hashes[:16]), 4)
    for h in hashes[16:20]:
        frontier.append(h)
    frontier.append(perfect_root(hashes[20:24]), 2)
    assert frontier.size == 24 and frontier.root() == root_of(hashes[:24])
    with pytest.raises(ValueError):
        frontier.append(perfect_root(hashes[:16]), 4)  # 24 is not a multiple of 16


def test_the_sealed_leaf_is_the_stored_row_and_both_hashings_agree() -> None:
    from projections.seal import leaf_hashes, leaf_of

    row = (7, "0" * 31 + "1", 3, "domain.shipment:Shipment.Received", b"\x00\xffsealed bytes\n")
    assert leaf_of(row) == b"00000000000000000000000000000001\n3\ndomain.shipment:Shipment.Received\n" + row[4]
    assert leaf_hashes([row]) == [leaf_hash(leaf_of(row))]

