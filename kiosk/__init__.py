"""The entrance kiosk: booking QR check-in, temperature gate and queue tickets, working offline."""
