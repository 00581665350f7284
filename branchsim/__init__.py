"""A whole branch office in simulation: brokers, back office, kiosks and a dropbox on one clock.

Public surface::

    main                 `python -m branchsim`: the branch day, live (branchsim.branch)
    LocalBroker          mosquitto on loopback, the fleet's TLS and ACL config (branchsim.broker)
    BridgedBrokers       a branch broker bridged to a central one, the line cut and restored
    Link                 a loopback TCP line that can be cut and restored (branchsim.link)
    SimulatedBranch      broker, back office and API for `provision check --simulate` (.simbranch)
"""

from branchsim.branch import main
from branchsim.bridge import BridgedBrokers
from branchsim.broker import BrokerError, LocalBroker
from branchsim.link import Link
from branchsim.simbranch import SimulatedBranch

__all__ = ["BridgedBrokers", "BrokerError", "Link", "LocalBroker", "SimulatedBranch", "main"]
