"""In Chromium: each role, logged in through the login page, sees on these pages only its own
scope — the desks, the district worklist, the admin pages and the dashboard's area."""

from __future__ import annotations

from tests.application.test_recipients import import_rows
from tests.scenario import nik, target_row
from tests.web.clinic_world import clinic_today, register_today


def test_each_role_sees_only_its_scope_on_these_pages(site, browser) -> None:
    chain = site.chain
    clinic_today(chain)
    ticket = register_today(chain)
    import_rows(chain.app, [target_row(4, phone="")], chain.by("KEMENKES", "admin"))
    person = chain.app.recipient_id(nik(serial=4)).hex

    def visit(account: str, path: str):  # noqa: ANN202 - (status, page text)
        context = browser.new_context(viewport={"width": 360, "height": 800})
        try:
            page = context.new_page()
            site.login(page, account, path)
            answer = page.goto(site.url + path)
            return answer.status, page.inner_text("main")
        finally:
            context.close()

    # the puskesmas's vaccinator: its desks and its bookings, unmasked; not the district's worklist
    status, text = visit("vaksinator", f"/meja/tiket/{ticket}")
    assert status == 200 and "Siti Aminah 1" in text
    assert visit("vaksinator", "/distrik")[0] == 403
    # Kota Bandung's officer sees the person to visit; Jakarta Selatan's does not, even by the link
    status, text = visit("petugas", "/distrik")
    assert status == 200 and "tanpa nomor ponsel" in text
    status, text = visit("petugas.jaksel", "/distrik")
    assert status == 200 and "Tidak ada yang perlu dikunjungi" in text
    assert visit("petugas.jaksel", f"/distrik/orang/{person}")[0] == 403
    # a warehouse has no desks and no admin pages; the admin has
    assert visit("gudang.jabar", "/meja")[0] == 403
    assert visit("gudang.jabar", "/admin")[0] == 403
    assert visit("admin", "/admin")[0] == 200
    # DKI's auditor reads DKI's dashboard, and is refused Jawa Barat's
    status, text = visit("auditor.dki", "/")
    assert status == 200 and "Dki Jakarta" in text
    assert visit("auditor.dki", "/?area=32")[0] == 403
