"""The `provision` command groups, each adding its commands with `register(sub)`."""
