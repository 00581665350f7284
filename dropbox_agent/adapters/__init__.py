"""Real devices behind the agent's ports; each imports its hardware library lazily."""
