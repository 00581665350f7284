"""The kiosk's pure core: check-in flow, temperature policy, ticket numbering and layout.

Nothing here imports hardware, UI or network libraries (tests/test_architecture.py).
"""
