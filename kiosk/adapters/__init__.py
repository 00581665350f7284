"""Real adapters behind `kiosk.ports`; hardware libraries are imported inside each adapter."""
