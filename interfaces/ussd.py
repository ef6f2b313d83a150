"""Registration by USSD (*119#), in Africa's Talking's callback form.

The gateway posts ``sessionId``, ``serviceCode``, ``phoneNumber`` and ``text``:
everything typed so far, joined by ``*``. We replay those answers through the
menu on every request (no session state to lose) and reply ``CON …`` to ask
for more or ``END …`` to close. A wrong answer re-asks the same question;
three wrong answers in a row, or anything unexpected, end politely.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime

from application.campaign import Campaign, RecipientNotFound
from application.errors import ApplicationError
from application.people import InvalidPersonalData, parse_phone
from domain.errors import RuleBroken
from domain.phase import RegistrationClosed
from domain.recipient import Channel, Recipient
from domain.session import SessionFull

log = logging.getLogger(__name__)
DAYS = ["Sen", "Sel", "Rab", "Kam", "Jum", "Sab", "Min"]
MAX_WRONG = 3


def show_day(day: date) -> str:
    return f"{DAYS[day.weekday()]} {day:%d-%m-%Y}"


@dataclass
class Menu:
    campaign: Campaign
    phone: str
    now: datetime
    kecamatan_names: dict[str, str]
    step: str = "menu"
    wrong: int = 0
    error: str = ""
    recipient: Recipient | None = None
    nik: str = ""
    kecamatan: str = ""
    facilities: list[tuple[str, str]] = field(default_factory=list)
    days: list[date] = field(default_factory=list)
    choice: tuple[str, str, date] | None = None

    def answer(self, text: str) -> str:
        """The reply to everything typed so far."""
        answers = text.split("*") if text else []
        for given in answers:
            reply = getattr(self, f"take_{self.step}")(given.strip())
            if reply is not None:
                return reply
            if self.wrong >= MAX_WRONG:
                return "END Maaf, jawaban tidak dikenali. Silakan hubungi *119# lagi."
        prompt = getattr(self, f"ask_{self.step}")()
        return f"CON {self.error}\n{prompt}" if self.error else f"CON {prompt}"

    def retry(self, why: str) -> None:
        self.wrong += 1
        self.error = why

    def advance(self, step: str) -> None:
        self.step, self.wrong, self.error = step, 0, ""

    # Each step: ask_<step> is the question, take_<step> takes an answer
    # (returns an END reply to finish, or None to go on).

    def ask_menu(self) -> str:
        return "Vaksinasi COVID-19 SDM Kesehatan\n1. Daftar ulang\n2. Cek jadwal saya"

    def take_menu(self, given: str) -> str | None:
        if given in ("1", "2"):
            self.advance("nik" if given == "1" else "check")
        else:
            self.retry("Pilih 1 atau 2.")
        return None

    def ask_nik(self) -> str:
        return "Masukkan NIK Anda (16 angka):"

    ask_check = ask_nik

    def _recipient(self, given: str) -> Recipient | str:
        try:
            self.nik = self.campaign.parse_nik(given)
            recipient = self.campaign.find_by_nik(self.nik)
        except InvalidPersonalData:
            self.retry("NIK harus 16 angka dan sesuai KTP.")
            return ""
        except RecipientNotFound:
            recipient = None
        if recipient is None or recipient.phone != self.phone:  # one answer: the list's members stay private
            return ("END NIK dan nomor HP ini tidak cocok dengan data sasaran. Gunakan nomor yang menerima SMS, "
                    "atau hubungi dinas kesehatan setempat.")
        return recipient

    def take_check(self, given: str) -> str | None:
        found = self._recipient(given)
        if isinstance(found, str):
            return found or None
        if not found.is_registered:
            return "END Anda belum terdaftar. Hubungi *119# dan pilih 1 untuk daftar ulang."
        return f"END Jadwal Anda: {self._facility_name(found.facility)}, {show_day(found.day)}. Tiket: {found.ticket}"

    def take_nik(self, given: str) -> str | None:
        found = self._recipient(given)
        if isinstance(found, str):
            return found or None
        if found.is_registered:
            return f"END Anda sudah terdaftar: {self._facility_name(found.facility)}, {show_day(found.day)}. Tiket: {found.ticket}"
        try:
            self.campaign.calendar(found.phase).check_open(self.now)
        except RegistrationClosed:
            return "END Pendaftaran sudah ditutup. Petugas lapangan akan mengunjungi Anda."
        self.recipient = found
        self.advance("kecamatan")
        return None

    def ask_kecamatan(self) -> str:
        home = self.nik[:6]
        return (f"Kecamatan tempat vaksinasi:\n1. {self.kecamatan_names.get(home, home)}\n"
                "Atau ketik kode kecamatan lain (6 angka)")

    def take_kecamatan(self, given: str) -> str | None:
        code = self.nik[:6] if given == "1" else given
        facilities = self.campaign.facilities_in_kecamatan(code) if code in self.kecamatan_names else []
        if not facilities:
            self.retry("Tidak ada fasilitas vaksinasi di kecamatan itu.")
            return None
        self.kecamatan = code
        self.facilities = [(f.code, f.name) for f in facilities]
        self.advance("facility")
        return None

    def ask_facility(self) -> str:
        return "Pilih tempat vaksinasi:\n" + "\n".join(
            f"{i}. {name}" for i, (_, name) in enumerate(self.facilities, start=1))

    def _pick(self, given: str, options: list) -> object | None:
        if given.isdigit() and 1 <= int(given) <= len(options):
            return options[int(given) - 1]
        self.retry(f"Pilih nomor 1 sampai {len(options)}.")
        return None

    def take_facility(self, given: str) -> str | None:
        picked = self._pick(given, self.facilities)
        if picked:
            assert self.recipient is not None  # noqa: S101 - reached only after the NIK step
            self.days = self.campaign.bookable_days(picked[0], self.recipient.phase, count=5)
            self.choice = (*picked, self.days[0] if self.days else self.now.date())
            if not self.days:
                return "END Maaf, jadwal di tempat ini penuh. Pilih tempat lain lewat *119#."
            self.advance("day")
        return None

    def ask_day(self) -> str:
        return "Pilih tanggal:\n" + "\n".join(f"{i}. {show_day(d)}" for i, d in enumerate(self.days, start=1))

    def take_day(self, given: str) -> str | None:
        picked = self._pick(given, self.days)
        if picked and self.choice:
            self.choice = (self.choice[0], self.choice[1], picked)
            self.advance("confirm")
        return None

    def ask_confirm(self) -> str:
        assert self.choice is not None  # noqa: S101 - reached only after a day was picked
        return f"Daftar di {self.choice[1]} pada {show_day(self.choice[2])}?\n1. Ya\n2. Batal"

    def take_confirm(self, given: str) -> str | None:
        if given == "2":
            return "END Pendaftaran dibatalkan. Hubungi *119# lagi kapan saja sebelum batas waktu."
        if given != "1" or self.choice is None:
            self.retry("Pilih 1 untuk Ya atau 2 untuk Batal.")
            return None
        code, name, day = self.choice
        try:
            outcome = self.campaign.register(self.nik, None, Channel.USSD, code, day, phone=self.phone)
        except SessionFull as full:
            other = ", ".join(show_day(d) for d in full.free_days) or "tidak ada"
            return f"END Maaf, {name} sudah penuh pada {show_day(day)}. Tanggal lain: {other}. Hubungi *119# lagi."
        except RegistrationClosed:
            return "END Pendaftaran sudah ditutup. Petugas lapangan akan mengunjungi Anda."
        return (f"END Terima kasih, pendaftaran berhasil. Tiket: {outcome.result['ticket']}. "
                f"Datang ke {name} pada {show_day(day)} dengan KTP.")

    def _facility_name(self, code: str | None) -> str:
        try:
            return self.campaign.get_facility(code or "").name
        except ApplicationError:
            return code or "-"


def respond(campaign: Campaign, phone_number: str, text: str, now: datetime,
            kecamatan_names: dict[str, str]) -> str:
    """Never raises: any failure becomes a polite END."""
    try:
        phone = parse_phone(phone_number)
    except InvalidPersonalData:
        return "END Layanan ini hanya untuk nomor HP Indonesia."
    try:
        return Menu(campaign, phone, now, kecamatan_names).answer(text)
    except (RuleBroken, ApplicationError):
        return "END Maaf, pendaftaran tidak dapat diproses. Hubungi dinas kesehatan setempat."
    except Exception:  # noqa: BLE001 - a USSD caller must never see a server error
        log.exception("USSD menu failed at a step (answers withheld: they hold a NIK)")
        return "END Maaf, layanan sedang sibuk. Silakan coba beberapa saat lagi."

