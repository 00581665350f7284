"""The provisioning tool's exceptions.

ProvisionError                      root of everything `provision` raises on purpose
├── Refused                         a policy refusal (exit code 3): the message says what to do
│   └── access.ReservedIdentity (ValueError)
│                                   a device id reserved for the back office, a bridge, an
│                                   operator or a broker
├── InvalidSetup (ValueError)       the device's config would not validate (exit code 2)
├── pki.PkiError                    a CA, key, CSR or certificate problem
│   ├── pki.DuplicateIdentity       the CA already has a valid certificate for this id (also
│   │                               a Refused)
│   └── pki.UnknownCertificate (LookupError)
│                                   nothing to revoke under that name or serial
├── render.RenderError              a render cannot proceed
├── broker.BrokerError (RuntimeError)
│                                   mosquitto is missing or did not start
└── brokeradmin.BrokerAdminError (RuntimeError)
                                    the running broker did not admit an identity

Each keeps its builtin base, so code that catches `ValueError` or `RuntimeError` still catches
it; `provision` says any other ProvisionError in one line, with exit code 1.
"""


class ProvisionError(Exception):
    """Root of the provisioning tool's exceptions."""


class Refused(ProvisionError):
    """The request goes against a provisioning rule (duplicate identity, unsafe id, plain MQTT)."""


class InvalidSetup(ProvisionError, ValueError):
    """The options given would make an invalid device config; the message lists each problem."""
