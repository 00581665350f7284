"""The provisioning tool's exceptions.

ProvisionError                      root of everything `provision` raises on purpose
├── Refused                         a policy refusal (exit code 3): the message says what to do
├── InvalidSetup                    the device's config would not validate (exit code 2)
├── pki.PkiError                    a CA, key, CSR or certificate problem
│   ├── pki.DuplicateIdentity       the CA already has a valid certificate for this id (also
│   │                               a Refused)
│   └── pki.UnknownCertificate      nothing to revoke under that name or serial (LookupError)
└── render.RenderError              a render cannot proceed
"""


class ProvisionError(Exception):
    """Root of the provisioning tool's exceptions."""


class Refused(ProvisionError):
    """The request goes against a provisioning rule (duplicate identity, unsafe id, plain MQTT)."""


class InvalidSetup(ProvisionError, ValueError):
    """The options given would make an invalid device config; the message lists each problem."""
