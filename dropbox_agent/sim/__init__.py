"""Simulated box hardware shipped with the agent: MockFactory pins, keypad, printer, scenarios."""
