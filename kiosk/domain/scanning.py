"""Which of the codes in one camera frame the kiosk acts on: booking tokens win over the rest.

A printed booking confirmation often carries more than one QR code (an app-download link, a
payment or survey code) and a phone screen may show another code beside the booking. The decoder
returns every code it read in a frame; only booking-token texts are candidates when there is one,
so a participant's booking is never hidden behind another code, wherever it sits on the page.
A frame with no booking token still gets an answer (the first code: "this is not a booking QR").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from uplink.booking.token import PREFIX

_SCANNER_NOISE = "\r\n\t\x00"  # what scanners and decoders may add around a text


def is_booking_token(text: str) -> bool:
    """Whether `text` claims to be a booking token (its prefix; the verifier decides the rest)."""
    return text.strip(_SCANNER_NOISE).startswith(PREFIX)


def candidates(texts: Sequence[str]) -> tuple[str, ...]:
    """The texts of one frame worth acting on, in order: the booking tokens if any, else all."""
    tokens = tuple(text for text in texts if is_booking_token(text))
    return tokens or tuple(texts)


class RecentCodes:
    """The codes acted on in the last `window_s` seconds (monotonic time): a code held in
    front of the camera is read many times a second, and a participant who taps "check" twice
    sends the same code twice; each is acted on once per window."""

    def __init__(self) -> None:
        self._at: dict[str, float] = {}

    def within(self, now: float, window_s: float) -> frozenset[str]:
        """The codes acted on less than `window_s` before `now` (older ones are forgotten)."""
        self._at = {text: at for text, at in self._at.items() if now - at < window_s}
        return frozenset(self._at)

    def first_time(self, text: str, now: float, window_s: float) -> bool:
        """Whether `text` is to be acted on at `now`: not acted on within the window. If so, it
        is remembered as acted on now."""
        if text in self.within(now, window_s):
            return False
        self._at[text] = now
        return True


def pick(texts: Sequence[str], recent: Iterable[str] = ()) -> str | None:
    """The one text of a frame to act on, or None.

    Args:
        texts: every text decoded from the frame, in the decoder's order.
        recent: texts acted on moments ago (a code held up stays in front of the camera).

    Returns:
        The first candidate not acted on recently. None when every candidate was, so another
        code in the same frame never replaces the answer the booking just got.
    """
    seen = set(recent)
    return next((text for text in candidates(texts) if text not in seen), None)
