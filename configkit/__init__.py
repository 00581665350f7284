"""One configuration convention for every tool: TOML files checked by strict pydantic models.

Public surface::

    ConfigModel        base class: unknown keys rejected, frozen, every field described
    ConfigError        raised by load(); str() gives one line per problem (exit code 2 in CLIs)
    Problem            one problem: file, key path, bad value, what is expected
    load(model, path)  read and validate a TOML file
    read_toml(path)    read a TOML file (UTF-8, at most MAX_CONFIG_BYTES; no device, no hang)
    read_small_file(path, limit) -> bytes   a file a person names, bounded (trust lists, CSRs)
    check_command(model, path) -> int   the body of every `<tool> config check FILE`
    check_files(config, source)         open the keys and certificates a config names (at start)
    file_problems(config, source)       the same, as problems with a severity (provision check)
    ChecksFiles                         protocol of config parts that name such files
    tls_file_problems(...)              the TLS file check those parts share
    dump_toml(model) -> str             write a model back as TOML (provisioning)
    TimeZoneName, check_time_zone       an IANA zone name field, checked at load
    HostName, check_host                a host name or IP address field, checked at load
    PeriodOrOff, check_period           seconds, 0 for off, else at least 0.1 s

Secrets (PINs, badge codes) are kept in configs as salted hashes: `configkit.hashed`.
"""

from configkit._dump import dump_toml
from configkit._load import (
    ChecksFiles,
    ConfigError,
    ConfigModel,
    Problem,
    Severity,
    check_command,
    check_files,
    file_problems,
    load,
    parse,
    read_small_file,
    read_toml,
)
from configkit._tls import tls_file_problems
from configkit._types import (
    HostName,
    PeriodOrOff,
    TimeZoneName,
    check_host,
    check_period,
    check_time_zone,
)

__all__ = [
    "ChecksFiles",
    "ConfigError",
    "ConfigModel",
    "HostName",
    "PeriodOrOff",
    "Problem",
    "Severity",
    "TimeZoneName",
    "check_command",
    "check_files",
    "check_host",
    "check_period",
    "check_time_zone",
    "dump_toml",
    "file_problems",
    "load",
    "parse",
    "read_small_file",
    "read_toml",
    "tls_file_problems",
]
