"""A puskesmas ready for today's session, on any store (the browser's live server or a TestClient's):
vaccine received at Puskesmas Sukasari, three health workers on the target list, phase 1's
registration open with today and the next two days as vaccination days."""

from __future__ import annotations

from datetime import timedelta

from application.logistics import NATIONAL_WAREHOUSE
from domain.calendar import WIB, local_day
from domain.recipient import Channel
from tests.application.test_recipients import PUSKESMAS, import_rows
from tests.scenario import CORONAVAC, ColdChain, nik, target_row

__all__ = ["CORONAVAC", "PUSKESMAS", "clinic_today", "register_today"]


def clinic_today(chain: ColdChain, lot: str = "CV001", vials: int = 20) -> ColdChain:
    """Vials of ``lot`` (already released) at the puskesmas; targets 1–3 imported; registration open."""
    for origin, destination in ((NATIONAL_WAREHOUSE, "32"), ("32", "32.73"), ("32.73", PUSKESMAS)):
        chain.receive_all(chain.ship(origin, destination, (lot, vials)))
    by = chain.by("KEMENKES", "admin")
    import_rows(chain.app, [target_row(i) for i in (1, 2, 3)], by)
    now = chain.app.clock()
    today = local_day(now, WIB)
    chain.app.set_calendar(1, now + timedelta(days=1), [today + timedelta(days=d) for d in range(3)], by)
    return chain


def register_today(chain: ColdChain, serial: int = 1) -> str:
    """Target ``serial`` registers on the web for today at the puskesmas: their ticket."""
    today = local_day(chain.app.clock(), WIB)
    outcome = chain.app.register(nik(serial=serial), f"{serial:08d}"[-4:], Channel.WEB, PUSKESMAS, today,
                                 chain.by("web"))
    return outcome.result["ticket"]



def stage_clinic(site: object) -> dict[str, str]:
    """For ``make screens``: a desk session under way (one person vaccinated, one at desk 2), a
    non-responder without a phone, and an import job part-way (the values the screens' paths name)."""
    from application.access import CAMPAIGN, Caller
    from application.jobs import start_job
    from domain.recipient import ScreeningResult

    chain: ColdChain = site.chain  # type: ignore[attr-defined]
    clinic_today(chain)
    waiting, done = register_today(chain, 1), register_today(chain, 2)
    chain.app.screen(done, ScreeningResult.ELIGIBLE, "", None, chain.by(PUSKESMAS))
    chain.app.vaccinate(done, CORONAVAC, "CV001", "vaksinator", chain.by(PUSKESMAS))
    import_rows(chain.app, [target_row(4, phone="")], chain.by("KEMENKES", "admin"))
    admin = Caller.operator("admin")
    job = start_job(chain.app, "import_targets", "import", "sasaran-jabar.csv · fase 1", 500, admin)
    job.advance(200, "200 baru · 0 sudah ada · 0 ditolak", chain.app.acting("import_targets", admin, CAMPAIGN))
    chain.app.save(job)
    return {"ticket": waiting, "person": chain.app.recipient_id(nik(serial=4)).hex, "job": job.id.hex}
