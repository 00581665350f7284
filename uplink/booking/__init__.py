"""The booking-token contract between the back office, which signs bookings, and the kiosks,
which verify them offline: the booking model, the token format (base45 of a signed binary
record), the signed trust list of keys, and booking codes. Pure: no I/O, no network."""
