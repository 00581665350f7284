"""The branch head's one-page report of a simulated day: HTML with inline SVG charts, no network."""

from __future__ import annotations

import html
import io
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from branchsim.audit import ALERT_TYPES, StoredEvent

HALF_HOUR = timedelta(minutes=30)


@dataclass(frozen=True)
class Sample:
    """The branch seen at one simulated instant (taken by the branch's loop)."""

    at: datetime
    inside: int
    pending: int


@dataclass(frozen=True)
class Outage:
    """The link to head office down from `start` until `end` (None: still down at the end)."""

    start: datetime
    end: datetime | None


def write_report(
    path: Path,
    *,
    summary: Mapping[str, Any],
    events: Sequence[StoredEvent],
    samples: Sequence[Sample],
    outages: Sequence[Outage],
    zone: tzinfo,
    capacity: int,
) -> Path:
    """Write the one-page report to `path` (charts drawn by matplotlib as inline SVG)."""
    import matplotlib

    matplotlib.use("Agg")  # no display: draw to memory only
    from matplotlib import pyplot

    pyplot.rcParams.update({"figure.dpi": 96, "font.size": 9, "svg.hashsalt": "lapak"})
    charts = [
        ("Check-in dan titipan per setengah jam / Check-ins and deposits per half hour",
         _per_half_hour(pyplot, events, zone)),
        ("Orang di dalam kantor / Occupancy over the day",
         _occupancy(pyplot, samples, zone, capacity)),
        ("Penolakan menurut alasan / Refusals by reason",
         _refusals(pyplot, summary["total"]["checkins_refused"])),
        ("Peristiwa menunggu kirim: putus dan pemulihan / Events waiting: the outage and catch-up",
         _pending(pyplot, samples, outages, zone)),
    ]  # fmt: skip
    body = [
        "<!doctype html><html lang='id'><head><meta charset='utf-8'>",
        f"<title>Laporan harian cabang {_e(summary.get('branch', ''))}</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:1em auto;color:#222}"
        "table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:2px 6px;"
        "text-align:right}th:first-child,td:first-child{text-align:left}"
        "figure{margin:1em 0}svg{max-width:100%;height:auto}.bad{color:#b00;font-weight:bold}"
        "</style></head><body>",
        f"<h1>Laporan harian / Daily report: {_e(summary.get('branch', ''))}</h1>",
        f"<p>{_e(_when(summary, zone))}</p>",
        _totals(summary),
    ]
    for title, svg in charts:
        body.append(f"<figure><figcaption><b>{_e(title)}</b></figcaption>{svg}</figure>")
    body.append(_alerts(events, outages, zone))
    body.append("</body></html>\n")
    path.write_text("\n".join(body), encoding="utf-8")
    return path


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _wib(at: datetime, zone: tzinfo) -> str:
    return at.astimezone(zone).strftime("%d-%m %H:%M")


def _parse(at: str) -> datetime:
    return datetime.fromisoformat(at.replace("Z", "+00:00"))


def _when(summary: Mapping[str, Any], zone: tzinfo) -> str:
    start, end = summary.get("sim_start"), summary.get("sim_end")
    if not (start and end):
        return ""
    return (
        f"Hari simulasi / simulated day {_wib(_parse(start), zone)} – {_wib(_parse(end), zone)} "
        f"WIB (×{summary.get('speed', 1):g})"
    )


def _totals(summary: Mapping[str, Any]) -> str:
    rows = [("", "total", *summary["devices"].keys())]
    columns = [summary["total"], *summary["devices"].values()]
    keys = ("events_recorded", "events_stored", "events_pending", "events_lost",
            "duplicates_stored", "tickets_issued", "tickets_printed", "checkins_accepted",
            "temperature_referrals", "deposits", "alerts")  # fmt: skip
    rows.extend((key, *(str(c[key]) for c in columns)) for key in keys)
    rows.append(("collections", *(_pairs(c["collections"]) for c in columns)))
    out = ["<table>"]
    for n, row in enumerate(rows):
        cell = "th" if n == 0 else "td"
        bad = row[0] in ("events_lost", "duplicates_stored") and row[1] != "0"
        cls = " class='bad'" if bad else ""
        out.append("<tr>" + "".join(f"<{cell}{cls}>{_e(v)}</{cell}>" for v in row) + "</tr>")
    out.append("</table>")
    return "".join(out)


def _pairs(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items()) or "0"


def _svg(figure: Any) -> str:
    buffer = io.StringIO()
    figure.tight_layout()
    figure.savefig(buffer, format="svg", metadata={"Date": None})  # the same day, the same page
    import matplotlib.pyplot as pyplot

    pyplot.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # inline: without the XML prolog and doctype


def _buckets(times: Iterable[datetime], zone: tzinfo) -> Counter[datetime]:
    counts: Counter[datetime] = Counter()
    for at in times:
        local = at.astimezone(zone)
        counts[local.replace(minute=local.minute // 30 * 30, second=0, microsecond=0)] += 1
    return counts


def _per_half_hour(pyplot: Any, events: Sequence[StoredEvent], zone: tzinfo) -> str:
    checkins = _buckets(
        (_parse(e.occurred_at) for e in events if e.type == "kiosk.checkin.accepted"), zone
    )
    deposits = _buckets(
        (_parse(e.occurred_at) for e in events if e.type == "dropbox.deposit"), zone
    )
    slots = sorted(set(checkins) | set(deposits))
    figure, axes = pyplot.subplots(figsize=(8, 2.6))
    labels = [s.strftime("%H:%M") for s in slots]
    x = range(len(slots))
    axes.bar([i - 0.2 for i in x], [checkins[s] for s in slots], 0.4, label="check-in")
    axes.bar([i + 0.2 for i in x], [deposits[s] for s in slots], 0.4, label="titipan / deposits")
    axes.set_xticks(list(x), labels, rotation=45)
    axes.set_xlabel("WIB")
    axes.legend()
    return _svg(figure)


def _occupancy(pyplot: Any, samples: Sequence[Sample], zone: tzinfo, capacity: int) -> str:
    figure, axes = pyplot.subplots(figsize=(8, 2.4))
    axes.step([_naive(s.at, zone) for s in samples], [s.inside for s in samples], where="post")
    axes.axhline(capacity, color="#b00", linestyle="--", label=f"kapasitas / capacity {capacity}")
    axes.set_xlabel("WIB")
    axes.legend()
    _time_axis(axes)
    return _svg(figure)


def _refusals(pyplot: Any, refused: Mapping[str, int]) -> str:
    figure, axes = pyplot.subplots(figsize=(8, 0.6 + 0.3 * max(1, len(refused))))
    reasons = list(refused) or ["(tidak ada / none)"]
    axes.barh(reasons, [refused.get(r, 0) for r in reasons], color="#c60")
    axes.invert_yaxis()
    return _svg(figure)


def _pending(
    pyplot: Any, samples: Sequence[Sample], outages: Sequence[Outage], zone: tzinfo
) -> str:
    figure, axes = pyplot.subplots(figsize=(8, 2.4))
    axes.plot([_naive(s.at, zone) for s in samples], [s.pending for s in samples])
    end = samples[-1].at if samples else None
    for n, outage in enumerate(outages):
        stop = outage.end or end
        if stop is not None:
            label = "tautan putus / link down" if n == 0 else None
            axes.axvspan(_naive(outage.start, zone), _naive(stop, zone), color="#fcc", label=label)
    if outages:
        axes.legend()
    axes.set_xlabel("WIB")
    _time_axis(axes)
    return _svg(figure)


def _naive(at: datetime, zone: tzinfo) -> datetime:
    """WIB wall time without a zone: matplotlib draws it as it is."""
    return at.astimezone(zone).replace(tzinfo=None)


def _time_axis(axes: Any) -> None:
    from matplotlib import dates

    axes.xaxis.set_major_formatter(dates.DateFormatter("%H:%M"))  # type: ignore[no-untyped-call]


def _alerts(events: Sequence[StoredEvent], outages: Sequence[Outage], zone: tzinfo) -> str:
    rows = [
        (_parse(e.occurred_at), e.device_id, e.type, _detail(e.payload))
        for e in events
        if e.type in ALERT_TYPES
        or (e.type == "kiosk.ticket.issued" and e.payload.get("printer_status") == "paper_out")
    ]
    for outage in outages:
        rows.append((outage.start, "branch", "link down", "tautan ke kantor pusat putus"))
        if outage.end is not None:
            rows.append((outage.end, "branch", "link restored", "tautan pulih"))
    rows.sort(key=lambda row: row[0])
    out = ["<h2>Peringatan / Alerts</h2>"]
    if not rows:
        return out[0] + "<p>Tidak ada / none</p>"
    out.append("<table><tr><th>WIB</th><th>device</th><th>what</th><th>detail</th></tr>")
    for at, device, what, detail in rows:
        out.append(
            f"<tr><td>{_e(_wib(at, zone))}</td><td>{_e(device)}</td><td>{_e(what)}</td>"
            f"<td>{_e(detail)}</td></tr>"
        )
    out.append("</table>")
    return "".join(out)


def _detail(payload: Mapping[str, Any]) -> str:
    keys = ("component", "code", "active", "detail", "printer_status", "counted", "expected")
    return ", ".join(f"{k}={payload[k]}" for k in keys if k in payload)
