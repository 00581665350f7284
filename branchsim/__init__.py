"""A whole branch office in simulation: brokers, back office, kiosks and a dropbox on one clock.

Public surface::

    main                 `python -m branchsim`: the branch day, live (branchsim.branch)
    LocalBroker          mosquitto on loopback, the fleet's TLS and ACL config (branchsim.broker)
    SimulatedBranch      broker, back office and API for `provision check --simulate` (.simbranch)
"""

from branchsim.branch import main
from branchsim.broker import BrokerError, LocalBroker
from branchsim.simbranch import SimulatedBranch

__all__ = ["BrokerError", "LocalBroker", "SimulatedBranch", "main"]
