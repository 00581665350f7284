"""The branch simulation's exceptions.

BranchSimError                            root of everything the branch simulation raises
└── workdir.WorkDirError (RuntimeError)   the work folder cannot be used (not ours, a file, in
                                          use); the message says how to fix it

Each keeps its builtin base, so code that catches `RuntimeError` still catches it. Its brokers
raise `provisioning.broker.BrokerError` (re-exported as `branchsim.BrokerError`): they are
provisioning's, started the way a branch starts them.
"""


class BranchSimError(Exception):
    """Root of the branch simulation's exceptions."""
