"""A branch broker bridged to a central broker, as in the field, with a line that can be cut."""

from __future__ import annotations

from pathlib import Path

from branchsim.broker import LocalBroker
from branchsim.link import Link
from provisioning.broker import BridgeSettings
from provisioning.pki import CertificateAuthority, issue_identity


class BridgedBrokers:
    """Two mosquitto processes on loopback with the fleet's config from `firmware_config`: the
    central one (the back office connects there; its ACL lets the branch's bridge in) and the
    branch one (devices connect there; it bridges events out, acks, commands and occupancy in).
    The bridge goes through a `Link`, so the line to head office can be cut and restored.

    Args:
        directory: Where both brokers keep their config, certificates, data and logs.
        branch: The branch id (the bridge's identity is ``bridge-<branch>``).
        ca: The fleet CA (a fresh one by default).
    """

    def __init__(
        self, directory: Path, branch: str, ca: CertificateAuthority | None = None
    ) -> None:
        self.branch_id = branch
        self.ca = ca or CertificateAuthority.create("Lapak Asik simulated fleet CA")
        self.central = LocalBroker(directory / "central", self.ca, bridge_branches=(branch,))
        self.link = Link(self.central.tls_port)
        identity = issue_identity(self.ca, directory / "bridge-pki", f"bridge-{branch}")
        settings = BridgeSettings(branch, "127.0.0.1", self.link.port, identity)
        self.branch = LocalBroker(directory / "branch", self.ca, bridge=settings)

    def start(self) -> None:
        """Start the central broker, then the branch broker (its bridge connects by itself)."""
        self.central.start()
        self.branch.start()

    def stop(self) -> None:
        """Stop both brokers and the line (safe to call twice)."""
        self.branch.stop()
        self.central.stop()
        self.link.close()

    def cut(self) -> None:
        """The line to head office goes down: the bridge loses its connection."""
        self.link.cut()

    def restore(self) -> None:
        """The line is back: the bridge reconnects on its own retry schedule."""
        self.link.restore()
