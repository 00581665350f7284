"""The dropbox agent: every deposit logged, counted at collection, and reported to the back office.

Entry points: `dropbox-agent` (see `__main__`), and for the whole-branch simulation
`dropbox_agent.sim.runner.run_simulated(config, scenario, speed=..., stop=...)`.
"""
