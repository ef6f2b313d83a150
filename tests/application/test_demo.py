"""The demo scenario replays through the application on both backends."""

from interfaces.scenarios.demo import BIOFARMA_LOT, CORONAVAC_GTIN, CORONAVAC_LOT, is_loaded, run_demo


def test_demo_has_its_short_delivery_vvm_rejection_and_count_discrepancy(app) -> None:
    # Given an empty store, When the demo runs
    assert not is_loaded(app)
    run = run_demo(app)
    # Then 21 shipments were received, with the three anomalies recorded
    shipments = [app.get_shipment(s) for s in run.shipments]
    assert len(shipments) == 21 and all(s.status.value == "received" for s in shipments)
    rejected = [r for s in shipments for r in s.receipt if r.rejected]
    assert [(r.lot_number, r.rejected, r.vvm_stage) for r in rejected] == [(BIOFARMA_LOT, 160, 3)]
    short = [(s.destination, line.vials - r.accepted - r.rejected)
             for s in shipments for line, r in zip(s.lines, s.receipt, strict=True)
             if line.vials - r.accepted - r.rejected]
    assert short == [("32.73", 2)]
    # 298 arrived at 32.73, 200 went on to its puskesmas, the count found 97
    assert app.get_stock("32.73").doses_of(f"{CORONAVAC_GTIN}/{CORONAVAC_LOT}") == 97
    assert is_loaded(app)


def test_a_newcomer_registers_and_is_vaccinated_today_after_the_demo(app) -> None:
    from datetime import date

    from application.access import Caller
    from domain.recipient import Channel, ScreeningResult
    from domain.user import Role

    # Given the demo, on the server's own clock
    who = run_demo(app).newcomer
    # When the person the demo names registers for today and comes to the puskesmas
    ticket = app.register(who["nik"], who["phone_last_four"], Channel.WEB, who["facility"],
                          date.fromisoformat(who["day"])).result["ticket"]
    vaccinator = Caller("ani", Role.VACCINATOR, who["facility"], "hp-1")
    app.screen(ticket, ScreeningResult.ELIGIBLE, "", None, vaccinator)
    # Then the dose is given from the demo's stock (its lots outlive today)
    assert app.vaccinate(ticket, CORONAVAC_GTIN, CORONAVAC_LOT, "ani", vaccinator).result["dose"] == "1"
