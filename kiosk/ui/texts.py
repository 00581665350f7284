"""The touchscreen's own words (buttons, hints, what still works): Bahasa Indonesia, then English.

What the engine decides (titles, reasons, next steps) comes with its `Screen`; this table only
holds what belongs to the touchscreen itself.
"""

from __future__ import annotations

from kiosk.bilingual import Bilingual as Bi

T: dict[str, Bi] = {
    # the language switch shows the language it switches to, in that language
    "lang": Bi("English", "Indonesia"),
    "walkin": Bi("TANPA BOOKING", "NO BOOKING"),
    "walkin_hint": Bi("Datang tanpa pesan jadwal", "Came without a booking"),
    "type_code": Bi("KETIK KODE", "TYPE CODE"),
    "type_code_hint": Bi("Kode booking 9 karakter", "9-character booking code"),
    "show_qr": Bi("Tunjukkan QR booking Anda ke kamera", "Show your booking QR to the camera"),
    "welcome": Bi("Selamat datang di Lapak Asik", "Welcome to Lapak Asik"),
    "dropbox": Bi(
        "Hanya menyerahkan berkas? Pakai dropbox di samping pintu.",
        "Only handing in documents? Use the dropbox by the door.",
    ),
    "scanning": Bi("Kode QR terlihat", "QR code seen"),
    "hold_still": Bi(
        "Tahan diam dan dekatkan ke kamera, di dalam kotak kuning.",
        "Hold still and closer, inside the yellow frame.",
    ),
    "keypad_title": Bi("Ketik kode booking", "Type your booking code"),
    "keypad_hint": Bi("9 huruf/angka, mis. 7K3QX9M2A", "9 letters/digits, e.g. 7K3QX9M2A"),
    "clear": Bi("HAPUS SEMUA", "CLEAR ALL"),
    "back": Bi("⌫", "⌫"),
    "ok": Bi("PERIKSA", "CHECK"),
    "cancel": Bi("BATAL", "CANCEL"),
    "done": Bi("SELESAI", "DONE"),
    "service_title": Bi("Pilih layanan klaim", "Choose your claim"),
    "JHT_hint": Bi("Tabungan hari tua, berhenti kerja", "Savings when you stop working"),
    "JKK_hint": Bi("Kecelakaan atau sakit karena kerja", "Accident or illness from work"),
    "JKM_hint": Bi("Ahli waris peserta yang meninggal", "Heirs of a member who died"),
    "JP_hint": Bi("Uang pensiun bulanan", "Monthly pension"),
    "collective_title": Bi("Booking kolektif perusahaan", "Company group booking"),
    "collective_party": Bi("Jumlah peserta: {n} orang", "Party size: {n} people"),
    "collective_company": Bi("Atas nama: {name}", "For: {name}"),
    "temperature_reading": Bi("Suhu terbaca: {c}", "Reading: {c}"),
    "resting_countdown": Bi("Ukur ulang dalam {s} detik", "Measuring again in {s} s"),
    "printing_title": Bi("Mencetak tiket Anda...", "Printing your ticket..."),
    "printing_body": Bi("Tiket keluar di bawah layar.", "The ticket comes out below."),
    "write_down": Bi(
        "Catat nomor ini: printer kehabisan kertas.",
        "Write this number down: the printer is out of paper.",
    ),
    "write_track": Bi("Kode lacak: {code} (catat juga)", "Tracking code: {code} (note it too)"),
    "clock_staff": Bi(
        "Petugas: jam kios belum sinkron, cek tanggal booking",
        "Staff: clock not synchronised, check booking dates",
    ),
    "printed": Bi("Tiket tercetak. Ambil di bawah layar.", "Printed. Take it below the screen."),
    "people_ahead": Bi("Di depan Anda: {n} orang", "People ahead: {n}"),
    "wait_outside": Bi(
        "RUANGAN PENUH: tunggu di luar sampai dipanggil",
        "OFFICE FULL: wait outside until called",
    ),
    "referred_body": Bi(
        "Suhu tubuh Anda di atas batas. Silakan pulang dan beristirahat.",
        "Your temperature is above the limit. Please go home and rest.",
    ),
    "take_slip": Bi(
        "Ambil slip petunjuk di bawah layar.", "Take the slip with the next steps below."
    ),
    "still_works": Bi("Yang tetap bisa dipakai:", "What still works:"),
    "works_dropbox": Bi("Dropbox berkas di depan kantor", "The document dropbox outside"),
    "works_online": Bi(
        "Klaim online: aplikasi JMO / lapakasik", "Claim online: JMO app / lapakasik"
    ),
    "works_175": Bi("Telepon Layanan Masyarakat 175", "Call the service line 175"),
    "works_officer": Bi("Petugas di pintu masuk", "The officer at the entrance"),
    "staff": Bi("PETUGAS", "STAFF"),
    "staff_title": Bi("Khusus petugas: masukkan PIN", "Staff only: enter the PIN"),
    "staff_wrong": Bi("PIN salah", "Wrong PIN"),
    "staff_checking": Bi("Memeriksa PIN...", "Checking the PIN..."),
    "camera_title": Bi("Kamera tidak berfungsi", "The camera is not working"),
    "camera_body": Bi(
        "QR tidak dapat dipindai. Ketik kode booking Anda, atau pilih TANPA BOOKING.",
        "QR codes cannot be scanned. Type your booking code, or choose NO BOOKING.",
    ),
    "inactive": Bi("Kembali ke awal dalam {s} detik", "Back to the start in {s} s"),
    "touch_to_stay": Bi("Sentuh layar untuk lanjut", "Touch the screen to continue"),
    "returning": Bi("Kembali ke awal dalam {s} detik", "Back to the start in {s} s"),
}
