"""``rantai audit replay``: every read model rebuilt from zero in one pass into scratch
read models and compared with the live ones — clean after the jan2021 scenario, and a
hand-edited, deleted or added live row named (both backends)."""

from __future__ import annotations

import json

import pytest
from eventsourcing.utils import get_topic

from domain.recipient import Recipient
from interfaces.bootstrap import open_read_models
from interfaces.scenarios.jan2021 import Rollout
from interfaces.sms.outbox import OutboxGateway
from projections.catalog import READ_MODELS
from projections.follower import Follower
from projections.replay import replay, scratch_read_models


@pytest.fixture
def rolled_out(app, settings):
    """The jan2021 scenario at a small scale, every live read model caught up with the log."""
    gateway = OutboxGateway(settings.sms_outbox)
    try:
        Rollout(app, gateway, scale=0.001).run()
    finally:
        gateway.close()
    models = open_read_models(settings)
    for model in models.values():
        Follower(app, model).catch_up()
    yield models
    for model in models.values():
        model.view.datastore.close()


def edit(model, statement: str) -> None:
    """Change the live read model's rows by hand, as someone with the database's rights could."""
    with model.view.datastore.transaction(commit=True) as cursor:
        cursor.execute(model.view.sql(statement))


def test_replay_is_clean_after_the_rollout_and_names_a_hand_edited_row(rolled_out, rantai) -> None:
    # Given the rollout and its live read models, When the auditor replays
    clean = rantai("audit", "replay")
    # Then every read model agrees with its rebuild
    assert clean.exit_code == 0, clean.output
    assert "Every read model agrees with its rebuild." in clean.output
    for name in READ_MODELS:
        assert f"{name}: position" in clean.output

    # When one funnel row is edited by hand, one stock row deleted and one shipment row added
    funnel = rolled_out["funnel"]
    row = funnel.view.select("SELECT district, phase, hour FROM {funnel} WHERE targeted > 0 ORDER BY hour LIMIT 1")[0]
    edit(funnel, f"UPDATE {{funnel}} SET targeted = targeted + 1 WHERE district = '{row['district']}' "
                 f"AND phase = {row['phase']} AND hour = '{row['hour']}'")
    stock = rolled_out["stock_on_hand"]
    gone = stock.view.select("SELECT facility, lot_key FROM {stock} ORDER BY facility, lot_key LIMIT 1")[0]
    edit(stock, f"DELETE FROM {{stock}} WHERE facility = '{gone['facility']}' AND lot_key = '{gone['lot_key']}'")
    changed = rantai("audit", "replay", "--json")

    # Then the replay fails and names each row: read model, table, key and the columns that differ
    assert changed.exit_code == 1
    found = json.loads(changed.output)
    assert not found["clean"]
    named = {(d["read_model"], d["table"]): d for d in found["differences"]}
    assert set(named) == {("funnel", "funnel"), ("stock_on_hand", "stock")}
    edited = named["funnel", "funnel"]
    assert edited["key"] == row
    assert edited["live"]["targeted"] == edited["rebuilt"]["targeted"] + 1
    assert named["stock_on_hand", "stock"]["live"] is None
    assert named["stock_on_hand", "stock"]["key"] == gone
    readable = rantai("audit", "replay")
    assert readable.exit_code == 1
    assert f"funnel.funnel (district={row['district']}, phase={row['phase']}, hour={row['hour']}): targeted live" \
        in " ".join(readable.output.split())
    assert "missing from the live read model" in readable.output


def test_a_replay_stops_where_asked_and_leaves_the_live_read_models_alone(app, rolled_out, store_env) -> None:
    funnel = rolled_out["funnel"]
    live_rows = funnel.view.select("SELECT * FROM {funnel} ORDER BY district, phase, hour")
    first_dose = app.recorder.select_notifications(1, 1, topics=(get_topic(Recipient.Vaccinated),))[0].id
    before = first_dose - 1
    with scratch_read_models(store_env, ["funnel", "aefi"]) as scratch:
        taken = replay(app, scratch, stops={"funnel": before, "aefi": before})
        assert scratch["funnel"].view.position()["notification_id"] == before
        assert 0 < taken["funnel"] and scratch["funnel"].view.totals()["targeted"] > 0
        assert scratch["funnel"].view.totals()["dose1"] == 0 < funnel.view.totals()["dose1"]
    assert funnel.view.select("SELECT * FROM {funnel} ORDER BY district, phase, hour") == live_rows


def test_a_live_read_model_behind_the_log_is_compared_at_its_own_position(app, rolled_out, store_env) -> None:
    # Given live read models at the head, then more events they have not seen yet
    from interfaces.as_of import replay_and_compare
    from tests.application.test_recipients import import_rows
    from tests.scenario import Caller, target_row

    standing = {name: model.view.max_tracking_id(app.name) for name, model in rolled_out.items()}
    import_rows(app, [target_row(9001, nik="3273011708859001")], Caller.operator("cli:test"))
    assert (app.recorder.max_notification_id() or 0) > max(standing.values())
    # When the auditor replays, Then each read model is rebuilt to where its live one stands: no difference
    result = replay_and_compare(app, store_env, rolled_out)
    assert result.clean, {name: [str(d) for d in found] for name, found in result.differences.items() if found}
    assert result.positions == standing


def test_a_replay_in_small_pages_writes_behind_and_agrees_with_the_live_read_models(app, rolled_out, store_env):
    # Given the rollout replayed 7 events a page: many pages written by the writer thread
    # while the next ones are read and replayed
    from projections.replay import compare

    with scratch_read_models(store_env) as scratch:
        taken = replay(app, scratch, page_size=7)
        # Then every read model agrees with its live one, row for row
        for name, model in scratch.items():
            assert taken[name] > 0
            assert compare(name, rolled_out[name], model) == []
            assert model.view.settle is None  # the replay leaves no hook behind


def test_a_handler_that_reads_its_tables_waits_for_the_pages_being_written(app, rolled_out, store_env) -> None:
    # Given the worklist replayed one event a page, and a slow database: the page with
    # the blast's start (its deadline) is still being written when its first batch is
    # handled, and that handler reads the deadline back from the table
    import time

    from projections.replay import compare

    with scratch_read_models(store_env, ["non_responders"]) as scratch:
        view = scratch["non_responders"].view
        writing = view.apply

        def slow_write(changes, *args):
            if changes.puts.get("blasts"):
                time.sleep(0.3)
            writing(changes, *args)

        view.apply = slow_write
        replay(app, scratch, page_size=1)
        # Then the batch saw the deadline, and the worklist agrees with the live one
        assert compare("non_responders", rolled_out["non_responders"], scratch["non_responders"]) == []
