"""One configuration convention for every tool: TOML files checked by strict pydantic models.

Public surface::

    ConfigModel        base class: unknown keys rejected, frozen, every field described
    ConfigError        raised by load(); str() gives one line per problem (exit code 2 in CLIs)
    Problem            one problem: file, key path, bad value, what is expected
    load(model, path)  read and validate a TOML file
    check_command(model, path) -> int   the body of every `<tool> config check FILE`
    dump_toml(model) -> str             write a model back as TOML (provisioning)
"""

from configkit._dump import dump_toml
from configkit._load import ConfigError, ConfigModel, Problem, check_command, load, parse

__all__ = ["ConfigError", "ConfigModel", "Problem", "check_command", "dump_toml", "load", "parse"]
