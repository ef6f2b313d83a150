"""The dashboard in headless Chromium at 360 px: its figures are the read models' own, national
and after drilling down to a province; each panel names its log position and clock."""

from __future__ import annotations

from domain.calendar import WIB, local_day
from domain.recipient import ScreeningResult
from interfaces.bootstrap import open_read_models
from interfaces.web.pages import number
from projections.funnel import dose2_due_before
from tests.web.clinic_world import CORONAVAC, PUSKESMAS, clinic_today, register_today


def test_the_dashboards_figures_are_the_read_models(site, phone, shot) -> None:
    # Given a puskesmas session today: two registered, one screened and vaccinated, one shipment in transit
    chain = site.chain
    clinic_today(chain)
    tickets = [register_today(chain, serial) for serial in (1, 2)]
    chain.app.screen(tickets[0], ScreeningResult.ELIGIBLE, "", None, chain.by(PUSKESMAS))
    chain.app.vaccinate(tickets[0], CORONAVAC, "CV001", "ani", chain.by(PUSKESMAS))
    chain.ship("BIOFARMA", "32", ("CV001", 5))
    models = open_read_models(site.settings, only=["funnel", "stock_on_hand", "shipments"])
    try:
        site.wait_for_read_models()
        before = models["funnel"].view.position()["notification_id"]
        # When the auditor opens the dashboard on a phone (logging in writes only the session's event)
        page = phone.new_page()
        site.login(page, "auditor", "/")
        shot(page, "dashboard")
        site.wait_for_read_models()  # (the login's event moves positions on, not figures)
        today = local_day(chain.app.clock(), WIB)
        funnel = models["funnel"].view.totals(due_before=dose2_due_before(today, chain.app.dose_interval_days))
        stock_rows = len(models["stock_on_hand"].view.levels())
        in_transit = len(models["shipments"].view.in_transit(chain.app.clock()))
        after = models["funnel"].view.position()["notification_id"]
    finally:
        for model in models.values():
            model.view.datastore.close()

    def figure(key: str) -> str:
        return page.inner_text(f'[data-figure="{key}"]').strip()

    # Then every figure is the read model's
    for key in ("targeted", "registered", "screened", "dose1", "dose2"):
        assert figure(key) == number(funnel[key]), key
    assert (funnel["targeted"], funnel["registered"], funnel["dose1"]) == (3, 2, 1)
    assert figure("drop_out_rate") == "—"  # nobody is due for dose 2 on the day of dose 1
    assert figure("stock_rows") == number(stock_rows) and figure("in_transit") == number(in_transit) == "1"
    assert page.get_attribute("#clock", "data-measured-on") == "server"
    assert before <= int(page.get_attribute("#funnel .pos", "data-position")) <= after  # the position it shows
    # and drilling down to Jawa Barat shows its districts, with the same totals
    page.click('#area-table a[href="/?area=32"]')
    page.wait_for_selector('#area-table tr[data-code="32.73"]')
    shot(page, "dashboard-province")
    assert figure("targeted") == "3" and figure("dose1") == "1"
    page.click("#up")
    page.wait_for_selector('#area-table tr[data-code="32"]')
