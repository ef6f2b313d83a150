"""The non-responder worklist: after the deadline, every target not registered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.recipient import Channel, VisitOutcome, VisitUnit
from interfaces.sms.outbox import OutboxGateway
from projections.non_responders import NonResponders
from tests.application.test_blast import import_targets
from tests.application.test_recipients import open_phase
from tests.scenario import ColdChain, nik, target_row

DEADLINE = datetime(2021, 1, 13, 17, 0, tzinfo=UTC)  # midnight WIB


def test_after_the_deadline_every_unregistered_target_is_on_the_worklist(
    chain: ColdChain, settings, follow
) -> None:
    # Given 6 targets (one without a phone), blasted with a deadline
    import_targets(chain, 5)
    list(chain.app.import_targets(enumerate([target_row(6, phone="")], start=2), 1, "SDMK", chain.by("K")))
    by = chain.by("KEMENKES")
    blast = chain.app.start_blast(1, ["32.73"], "Daftar ulang", DEADLINE, by)
    open_phase(chain)
    list(chain.app.send_blast(blast.id, OutboxGateway(settings.sms_outbox), by))
    # When two register before the deadline
    for serial in (1, 2):
        chain.app.register(nik(serial=serial), f"{serial:04d}", Channel.WEB, "P327301",
                           datetime(2021, 1, 14).date(), chain.by("web"))
    follower = follow(NonResponders)
    follower.catch_up()
    view = follower.read_model.view
    # Then before the deadline only the target without a phone is listed
    before = view.worklist("32.73", DEADLINE - timedelta(minutes=1))
    assert [row["has_phone"] for row in before] == [0]
    # and after it, every target not registered
    after = view.worklist("32.73", DEADLINE)
    assert len(after) == 4
    assert chain.app.recipient_id(nik(serial=1)).hex not in {row["recipient_id"] for row in after}
    assert view.worklist("31.71", DEADLINE) == []
    # And field-visit outcomes are kept
    chain.app.assign_visit(chain.app.recipient_id(nik(serial=3)), VisitUnit.BABINSA, "Serka Budi", by)
    chain.app.report_visit(chain.app.recipient_id(nik(serial=3)), VisitOutcome.REFUSED, "", by)
    follower.catch_up()
    assert view.outcomes("32.73", DEADLINE) == {"": 3, "refused": 1}


def test_catching_up_twice_changes_nothing_and_rebuild_gives_the_same_rows(
    chain: ColdChain, settings, follow
) -> None:
    import_targets(chain, 30)
    follower = follow(NonResponders)
    assert follower.catch_up() == 30
    assert follower.catch_up() == 0
    rows = follower.read_model.view.select("SELECT * FROM {worklist} ORDER BY recipient_id")
    assert follower.position == chain.app.recorder.max_notification_id()
    follower.rebuild()
    assert follower.read_model.view.select("SELECT * FROM {worklist} ORDER BY recipient_id") == rows
