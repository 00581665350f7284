"""The back office's exceptions.

BackofficeError                            root of everything the back office raises
├── stores.DatabaseError (RuntimeError)    the event store cannot be opened or used
├── bookings.keys.KeyStoreError (RuntimeError)
│                                          a signing key is missing, unsafe or not Ed25519
└── bookings.issuer.IssueError (ValueError)
                                           a booking or key rotation the issuer refuses

Each keeps its builtin base, so code that catches `ValueError` or `RuntimeError` still catches
it. An event store's file that cannot be opened raises `uplink.StorageError` (the uplink's
durable SQLite files are opened in one place).
"""


class BackofficeError(Exception):
    """Root of the back office's exceptions."""
