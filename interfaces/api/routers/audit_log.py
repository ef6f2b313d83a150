"""Auditors' routes for the tamper-evident log (issue 12): the latest signed
checkpoint and an inclusion proof of one event, as ``rantai audit checkpoint``
and ``rantai audit prove`` print them. For auditors and admins; a proof only
of what the caller may see the history of.

The public key is not served here on purpose: an auditor checks the server's
checkpoints with a key obtained out of band (``rantai audit public-key``),
never with one the audited server hands out.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse

from application.errors import NotFound
from application.history import PERMISSION
from domain.errors import RuleBroken
from interfaces.api.deps import CallerDep, CampaignDep
from interfaces.api.routers.audit import Kind, KeyPath, subject_of
from projections.checkpoints import Checkpoint, UnreadableCheckpoint, read_unsigned
from projections.seal import SealStore, open_seal
from projections.seal_proof import RowNotSealed, proof_document

router = APIRouter(prefix="/audit", tags=["audit"])


class NoCheckpoint(NotFound):
    pass


class NotSealed(NotFound):
    pass


class LogChanged(RuleBroken):
    pass


@contextmanager
def seal_of(campaign: Any) -> Iterator[SealStore]:
    store = open_seal(dict(campaign.env))
    try:
        store.create_tables()  # a store made before the seal existed: no checkpoint yet, not an error
        yield store
    finally:
        store.close()


def latest(store: SealStore) -> Checkpoint:
    stored = store.checkpoints()
    if not stored:
        raise NoCheckpoint("No checkpoint has been signed yet: `rantai worker` signs one every hour while the "
                           "log grows, or run `rantai audit checkpoint`.")
    try:
        return read_unsigned(stored[-1][2])
    except UnreadableCheckpoint:
        raise NoCheckpoint("The latest stored checkpoint cannot be read: run `rantai audit verify`.") from None


@router.get("/checkpoint", response_class=PlainTextResponse)
def checkpoint(campaign: CampaignDep, caller: CallerDep) -> str:
    """The latest signed checkpoint of the log (a transparency-log note: origin, size, base64 root
    hash, a blank line, the Ed25519 signature line), for an auditor to keep."""
    campaign.check_role(caller, PERMISSION)
    with seal_of(campaign) as store:
        return latest(store).note


@router.get("/proof/{kind}/{key:path}")
def proof(kind: Kind, key: KeyPath, campaign: CampaignDep, caller: CallerDep,
          version: Annotated[int, Query(ge=1, le=2**31, description="The event's version")]) -> dict[str, Any]:
    """An inclusion proof (``rantai-inclusion-proof/1``) of one event in the latest checkpoint:
    the stored row (encrypted), its leaf number and the RFC 9162 audit path."""
    subject = subject_of(campaign, caller, kind, key)
    with seal_of(campaign) as store:
        leaf = store.leaf_of_event(subject.aggregate_id.hex, version)
        if leaf is None:
            raise NotSealed(f"Event {version} of {subject.label} is not sealed (yet, or it does not exist).")
        found = latest(store)
        if leaf.index >= found.size:
            raise NotSealed(f"Event {version} of {subject.label} came after the latest checkpoint: ask again "
                            "after the next one.")
        try:
            return proof_document(store, leaf, found)
        except RowNotSealed:
            raise LogChanged("The stored event differs from the sealed one: the log was changed "
                             "(`rantai audit verify` names where).") from None
