"""The warehouse in a real browser: each role's home and scope, receiving through the
camera (Chromium fed a video made from the shipment's own label), and working offline."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image

from application.logistics import NATIONAL_WAREHOUSE
from domain.shipment import Shipment
from interfaces.scanner import drawing, labels
from interfaces.web.pages import HOME
from tests.api.conftest import ACCOUNTS
from tests.web.conftest import PHONE, Site
from tests.web.live import wait_until

BANDUNG, JABAR = "32.73", "32"


def y4m_of(png: bytes, path: Path, width: int = 640, height: int = 480) -> Path:
    """A short Y4M video (what Chromium's fake camera plays) of the label centred on a white frame."""
    label = Image.open(io.BytesIO(png)).convert("RGB")
    label.thumbnail((width - 20, height - 20))
    frame = Image.new("RGB", (width, height), "white")
    frame.paste(label, ((width - label.width) // 2, (height - label.height) // 2))
    y, cb, cr = frame.convert("YCbCr").split()
    half = (width // 2, height // 2)
    planes = y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    with path.open("wb") as video:
        video.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(10):
            video.write(b"FRAME\n" + planes)
    return path


def to_bandung(site: Site, *lines: tuple[str, int]) -> str:
    """A shipment dispatched from Jawa Barat's store to Kota Bandung (the stock goes Bio Farma -> province first)."""
    chain = site.chain
    chain.receive_all(chain.ship(NATIONAL_WAREHOUSE, JABAR, *lines))
    return chain.ship(JABAR, BANDUNG, *lines)


def received_events(site: Site, sscc: str) -> list[Shipment.Received]:
    shipment = site.chain.app.get_shipment(sscc)
    return [e for e in site.chain.app.repository.event_store.get(shipment.id) if isinstance(e, Shipment.Received)]


def test_each_role_lands_on_its_home_and_sees_only_its_scope(site: Site, browser) -> None:
    # Given stock at Jawa Barat's store
    chain = site.chain
    chain.receive_all(chain.ship(NATIONAL_WAREHOUSE, JABAR, ("CV001", 40)))
    for name, (role, _scope) in ACCOUNTS.items():
        context = browser.new_context(viewport=PHONE)
        page = context.new_page()
        # When each account logs in
        site.login(page, name)
        # Then it lands on its role's home
        assert page.url.split("?")[0].removeprefix(site.url) == HOME[role], name
        context.close()
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    site.login(page, "gudang.jabar")
    assert "JAWA BARAT" in page.inner_text("h1")
    assert page.inner_text("#stock tr[data-lot=CV001] .vials") == "40"
    # and another province's card is refused, in words, with a 4xx
    response = page.goto(f"{site.url}/gudang?f=31")
    assert response.status == 403
    assert "only at 32 and below" in page.inner_text(".error")
    # and the menu offers only the warehouse's pages
    assert "/admin" not in page.inner_html("nav.menu")
    context.close()


def test_the_pick_list_proposes_the_earliest_expiry_first(site: Site, phone) -> None:
    page = phone.new_page()
    site.login(page, "gudang.biofarma")
    page.goto(f"{site.url}/gudang?gtin={site_gtin()}&vials=450")
    picks = page.inner_text("#picks")
    assert picks.index("CV001") < picks.index("CV002")  # CV001 expires in 2030, CV002 in 2031
    assert "400" in picks and "50" in picks


def site_gtin() -> str:
    from tests.scenario import CORONAVAC

    return CORONAVAC


def test_receive_a_shipment_through_the_camera_and_the_stock_card_changes(site: Site, launch, tmp_path, shot) -> None:
    # Given a shipment on its way to Kota Bandung, and a camera that sees its label
    chain = site.chain
    sscc = to_bandung(site, ("CV001", 12))
    card = labels.shipment_card(chain.app, chain.app.get_shipment(sscc))
    video = y4m_of(drawing.png(labels.shipment_label(card)), tmp_path / "label.y4m")
    browser = launch("--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                     f"--use-file-for-fake-video-capture={video}")
    context = browser.new_context(viewport=PHONE, permissions=["camera"])
    page = context.new_page()
    wasm = []
    page.on("response", lambda r: wasm.append(r.headers.get("content-type")) if r.url.endswith(".wasm") else None)
    site.login(page, "gudang.bandung")
    assert page.locator("#stock tr[data-lot=CV001]").count() == 0
    # When the warehouse scans it with the camera, counts and confirms
    site.wait_for_read_models()
    page.goto(f"{site.url}/pindai/terima")
    page.click(".scan-camera")
    page.wait_for_selector(".scan-result.good", timeout=30_000)
    assert f"Kiriman {sscc} dari JAWA BARAT, 1 lot" in page.inner_text(".scan-result")
    assert wasm == ["application/wasm"]  # no BarcodeDetector in Linux Chromium: zxing-wasm decoded it
    page.fill("fieldset[data-lot=CV001] [name=accepted]", "10")
    page.click("fieldset[data-lot=CV001] .split")  # two vials arrived with VVM stage 3
    second = page.locator("fieldset[data-lot=CV001]").nth(1)
    second.locator("[name=rejected]").fill("2")
    second.locator("[name=vvm_stage]").select_option("3")
    second.locator("[name=reason]").fill("VVM 3")
    page.fill("#celsius", "6.5")
    page.click("#confirm")
    page.wait_for_selector("#outcome p")
    assert page.inner_text("#outcome p") == "Tercatat"
    shot(page, "receive-camera")
    # Then the shipment is received, line by line, and the stock card shows it
    shipment = chain.app.get_shipment(sscc)
    assert shipment.arrival_celsius == Decimal("6.5")
    assert [(p.lot_number, p.accepted, p.rejected, p.vvm_stage, p.reason) for p in shipment.receipt] == [
        ("CV001", 10, 0, 1, ""), ("CV001", 0, 2, 3, "VVM 3")]
    page.goto(f"{site.url}/gudang")
    assert page.inner_text("#stock tr[data-lot=CV001] .vials") == "10"
    assert "2 dikarantina" in page.inner_text("#stock tr[data-lot=CV001]")  # the rejected vials, kept apart
    context.close()


def test_commands_made_offline_are_recorded_once_with_their_scan_time(site: Site, phone, shot) -> None:
    # Given a shipment coming to Kota Bandung and one packed there for the puskesmas
    chain = site.chain
    coming = to_bandung(site, ("CV001", 10))
    chain.receive_all(to_bandung(site, ("CV001", 20)))
    packed = chain.pack(BANDUNG, "P327301", ("CV001", 5))
    page = phone.new_page()
    site.login(page, "gudang.bandung")
    page.evaluate("navigator.serviceWorker.ready")
    site.wait_for_read_models()
    for screen in ("/pindai/terima", "/pindai/kirim", "/gudang"):  # visited online: the service worker keeps them
        page.goto(f"{site.url}{screen}")
    # When the network is cut (for the page and its service worker alike)
    phone.route("**/*", lambda route: route.abort())
    page.goto(f"{site.url}/pindai/terima")  # the page still opens, from the service worker's cache
    page.fill("#scan-text", f"https://id.gs1.org/00/{coming}")
    page.press("#scan-text", "Enter")
    page.wait_for_selector("#command:not([hidden])")
    page.fill("#celsius", "4.5")
    page.click("#confirm")
    page.wait_for_selector("#outcome .ok")
    page.goto(f"{site.url}/pindai/kirim")
    page.fill("#scan-text", packed)
    page.press("#scan-text", "Enter")
    page.wait_for_selector("#command:not([hidden])")
    page.click("#confirm")
    page.wait_for_selector("#outcome .ok")
    assert page.inner_text("#queue-count") == "2"
    waiting = page.evaluate("Rantai.pending()")
    shot(page, "offline-queue")
    assert chain.app.get_shipment(coming).received_at is None
    # Then, back online, each is sent in order and recorded once, at its scan time
    phone.unroute("**/*")
    page.evaluate("Rantai.sync()")
    page.wait_for_selector("#queue", state="hidden")
    page.evaluate("Rantai.sync()")  # a second sync has nothing left to send
    from datetime import datetime

    received, dispatched = chain.app.get_shipment(coming), chain.app.get_shipment(packed)
    assert datetime.fromisoformat(received.received_at) == datetime.fromisoformat(waiting[0]["occurredAt"])
    assert datetime.fromisoformat(dispatched.dispatched_at) == datetime.fromisoformat(waiting[1]["occurredAt"])
    assert len(received_events(site, coming)) == 1
    assert received.receipt[0].accepted == 10 and received.arrival_celsius == Decimal("4.5")


def receive_offline(site: Site, phone, coming: str):  # noqa: ANN001, ANN201 - Playwright's context and page
    """Bandung's warehouse, logged in with its service worker ready, receives ``coming`` with the network cut:
    the receipt waits in the queue."""
    page = phone.new_page()
    site.login(page, "gudang.bandung")
    page.evaluate("navigator.serviceWorker.ready")
    site.wait_for_read_models()
    page.goto(f"{site.url}/pindai/terima")
    phone.route("**/*", lambda route: route.abort())
    page.fill("#scan-text", coming)
    page.press("#scan-text", "Enter")
    page.wait_for_selector("#command:not([hidden])")
    page.click("#confirm")
    page.wait_for_selector("#outcome .ok")
    return page


def test_a_command_refused_on_sync_is_shown_to_confirm_again_or_discard(site: Site, phone) -> None:
    # Given a receipt queued offline
    chain = site.chain
    coming = to_bandung(site, ("CV001", 3))
    page = receive_offline(site, phone, coming)
    # When someone else receives the box meanwhile, and the network returns
    chain.receive_all(coming)
    phone.unroute("**/*")
    page.evaluate("Rantai.sync()")
    # Then the refusal is shown with its reason, kept until the user discards it
    page.wait_for_selector("#refused:not([hidden]) button")
    assert "receive" in page.inner_text("#refused")
    assert page.inner_text("#queue-count") == "1"
    page.click("#refused button.secondary")
    page.wait_for_selector("#queue", state="hidden")
    assert len(received_events(site, coming)) == 1


@pytest.mark.parametrize("name", ["gudang.biofarma"])
def test_pack_a_shipment_and_print_its_label_sheet(site: Site, phone, name: str) -> None:
    page = phone.new_page()
    site.login(page, name)
    page.goto(f"{site.url}/gudang/kemas")
    page.fill("#destination", JABAR)
    page.fill("#pack-vials", "30")
    page.click("#propose")
    page.wait_for_selector("#pack-submit:not([disabled])")
    assert page.inner_text("#proposal") == "CV001: 30 vial"  # the earliest expiry (CV002 expires later)
    page.click("#pack-submit")
    page.wait_for_selector("#outcome p")
    assert page.inner_text("#outcome p") == "Tercatat"
    label = page.get_attribute("#outcome a[href$='label.pdf']", "href")
    response = page.request.get(f"{site.url}{label}")
    assert response.ok and response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")


def test_a_session_ended_while_offline_resumes_the_queue_after_logging_in(site: Site, phone) -> None:
    # Given a receipt queued offline
    coming = to_bandung(site, ("CV001", 7))
    page = receive_offline(site, phone, coming)
    scanned = page.evaluate("Rantai.pending()")[0]["occurredAt"]
    # When the session has ended by the time the network returns
    phone.clear_cookies()
    phone.unroute("**/*")
    page.evaluate("Rantai.sync()")
    # Then nothing is dropped: the page asks for a login, and after it the queue goes on
    page.wait_for_selector("#refused:not([hidden]) a")
    assert page.inner_text("#queue-count") == "1"
    assert site.chain.app.get_shipment(coming).received_at is None
    page.click("#refused a")
    page.fill("#username", "gudang.bandung")
    page.fill("#password", "rahasia-gudang.bandung")
    page.click("button[type=submit]")
    page.wait_for_url(f"{site.url}/pindai/terima")
    wait_until(page, "Rantai.pending().then((waiting) => waiting.length === 0)")  # (its counter starts hidden)
    from datetime import datetime

    shipment = site.chain.app.get_shipment(coming)
    assert datetime.fromisoformat(shipment.received_at) == datetime.fromisoformat(scanned)
    assert len(received_events(site, coming)) == 1


def test_count_wastage_and_a_correction_made_from_the_record(site: Site, phone) -> None:
    # Given 20 vials at Kota Bandung
    chain = site.chain
    chain.receive_all(to_bandung(site, ("CV001", 20)))
    page = phone.new_page()
    site.login(page, "gudang.bandung")
    # When the warehouse counts 19, records 3 broken, then corrects that entry to 1
    page.goto(f"{site.url}/gudang/hitung")
    # (each waits for its own answer: "#outcome .ok" still shows the one before)
    page.fill("#count-vials", "19")
    with page.expect_response(lambda r: r.url.endswith("/counts")) as answer:
        page.click("#count button[type=submit]")
    assert answer.value.ok
    page.fill("#waste-doses", "3")
    page.select_option("#waste-reason", "broken")
    with page.expect_response(lambda r: r.url.endswith("/wastage")) as answer:
        page.click("#wastage button[type=submit]")
    assert answer.value.ok
    page.reload()
    entry = page.locator(".wastage-correction").first
    entry.locator("[name=doses]").fill("1")
    entry.locator("[name=reason]").fill("salah hitung: hanya 1 pecah")
    with page.expect_response(lambda r: r.url.endswith("/correction")) as answer:
        entry.locator("button").click()
    assert answer.value.ok
    page.wait_for_selector("#outcome .ok")
    # Then the card holds 19 - 3 + 2 = 18, and the history keeps all three entries
    assert chain.on_hand(BANDUNG) == 18
    kinds = [type(e).__name__ for e in chain.app.repository.event_store.get(chain.app.get_stock(BANDUNG).id)]
    assert kinds[-3:] == ["Counted", "Wasted", "WastageCorrected"]


def test_a_courier_takes_a_box_over_by_scanning_it(site: Site, phone) -> None:
    sscc = to_bandung(site, ("CV001", 4))  # on its way from Jawa Barat's store
    page = phone.new_page()
    site.login(page, "gudang.jabar")
    page.goto(f"{site.url}/pindai/serah")
    page.fill("#scan-text", sscc)
    page.press("#scan-text", "Enter")
    page.wait_for_selector("#command:not([hidden])")
    page.fill("#carrier", "PT Kurir Dingin")
    page.fill("#vehicle", "D 1234 AB")
    page.click("#confirm")
    page.wait_for_selector("#outcome .ok")
    handed = [e for e in site.chain.app.repository.event_store.get(site.chain.app.get_shipment(sscc).id)
              if type(e).__name__ == "HandedOver"]
    assert [(e.carrier, e.vehicle, e.holder) for e in handed] == [("PT Kurir Dingin", "D 1234 AB", "gudang.jabar")]


def test_a_photo_of_the_label_is_read_by_the_server_when_there_is_no_camera(site: Site, phone) -> None:
    sscc = to_bandung(site, ("CV001", 6))
    card = labels.shipment_card(site.chain.app, site.chain.app.get_shipment(sscc))
    page = phone.new_page()
    site.login(page, "gudang.bandung")
    page.goto(f"{site.url}/pindai/terima")
    page.set_input_files("#scan-photo", files=[{"name": "label.png", "mimeType": "image/png",
                                                "buffer": drawing.png(labels.shipment_label(card))}])
    page.wait_for_selector(".scan-result.good:not(:has-text('Membaca'))")
    assert sscc in page.inner_text(".scan-result")
    assert page.locator("fieldset[data-lot=CV001] [name=accepted]").input_value() == "6"


def test_a_code_that_is_not_ours_is_refused_in_words(site: Site, phone) -> None:
    page = phone.new_page()
    site.login(page, "gudang.bandung")
    page.goto(f"{site.url}/pindai/terima")
    page.fill("#scan-text", "https://example.com/not-a-label")
    page.press("#scan-text", "Enter")
    page.wait_for_selector(".scan-result.bad")
    assert page.inner_text(".scan-result").startswith("This is not a Rantai shipment label")  # the parser's words
    assert page.locator("#command").is_hidden()
