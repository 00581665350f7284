"""Booking tokens that verify offline: model, verifier, check-in ledger and sync."""

from kiosk.booking.model import Booking, Channel, Service, Verdict

__all__ = ["Booking", "Channel", "Service", "Verdict"]
