# Copyright: lc-recover maintainers
# Apache License 2.0 (see galaxy.yml)
"""Which platform a managed host is, and which module binaries are built for it.

The modules of connections.dr are native binaries, one per platform, installed as
``plugins/modules/__bin__/<module>_<system>_<arch>`` (``lc_export_linux_x86_64``). The platform
of a host comes from ``uname`` run over the connection as it is (no Python is needed there);
``<system>`` is ``uname -s`` in lower case, ``<arch>`` is ``uname -m`` (``uname -p`` on AIX,
whose ``-m`` is a machine id), with the usual aliases folded (amd64 is x86_64, arm64 is aarch64).
Building a binary for one more platform and installing it under that name is all it takes to
support that platform: the list of platforms is read from the files that are there.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import yaml

# One line each: system, release, version, machine, processor (some systems have no -p).
UNAME = "uname -s; uname -r; uname -v; uname -m; uname -p 2>/dev/null || echo unknown"

COLLECTION_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN_DIR = os.path.join(COLLECTION_DIR, "plugins", "modules", "__bin__")
RUNTIME = os.path.join(COLLECTION_DIR, "meta", "runtime.yml")
COLLECTION = "connections.dr"
ACTION = f"{COLLECTION}.platform_binary"

_ARCH_ALIASES = {"amd64": "x86_64", "x64": "x86_64", "arm64": "aarch64", "i686": "i386", "i586": "i386"}
_SYSTEM_NAMES = {"linux": "Linux", "aix": "AIX", "sunos": "SunOS", "freebsd": "FreeBSD", "darwin": "Darwin",
                 "hp-ux": "HP-UX", "win32nt": "Windows"}


@dataclass(frozen=True)
class Platform:
    """A system and an architecture, as the binaries' names spell them (``linux``, ``x86_64``),
    and how a person would name the host's system (``AIX 7.2``)."""

    system: str
    arch: str
    label: str = ""

    @property
    def suffix(self) -> str:
        return f"{self.system}_{self.arch}"

    def __str__(self) -> str:
        return f"{_SYSTEM_NAMES.get(self.system, self.system)} {self.arch}"


def parse_uname(stdout: str) -> Platform:
    """The platform from the output of :data:`UNAME`; ValueError when it is not that output."""
    lines = [line.strip() for line in stdout.splitlines() if line.strip()]
    if len(lines) < 4:
        raise ValueError(f"uname printed {stdout.strip()!r}, not system, release, version and machine")
    system, release, version, machine = lines[:4]
    processor = lines[4] if len(lines) > 4 else "unknown"
    key = system.lower()
    arch = processor if key == "aix" else machine
    arch = _ARCH_ALIASES.get(arch.lower(), arch.lower())
    # AIX says 2 and 7 for AIX 7.2; elsewhere the release is the version people quote.
    label = f"{system} {version}.{release}" if key == "aix" else f"{system} {release}"
    return Platform(key, arch, label)


def module_names() -> list[str]:
    """The binary modules of the collection: those meta/runtime.yml routes to this action plugin
    (the collection may hold other modules, run on the controller by plugins of their own)."""
    with open(RUNTIME, encoding="utf-8") as f:
        routing = (yaml.safe_load(f) or {}).get("plugin_routing", {}).get("modules", {})
    return sorted(name for name, route in routing.items() if (route or {}).get("action_plugin") == ACTION)


def built_platforms(module: str | None = None) -> list[Platform]:
    """The platforms every module (or the one ``module``) has a binary for."""
    modules = [module] if module else module_names()
    found: dict[str, set[str]] = {m: set() for m in modules}
    names = os.listdir(BIN_DIR) if os.path.isdir(BIN_DIR) else []
    for name in names:
        for m in modules:
            if name.startswith(m + "_") and os.path.isfile(os.path.join(BIN_DIR, name)):
                found[m].add(name[len(m) + 1:])
    common = set.intersection(*found.values()) if found else set()
    platforms = []
    for suffix in sorted(common):
        system, _sep, arch = suffix.partition("_")
        if arch:
            platforms.append(Platform(system, arch))
    return platforms


def binary_name(module: str, platform: Platform) -> str:
    return f"{module}_{platform.suffix}"


def choose_binary(action, module: str, host: str) -> tuple[str, dict]:
    """The binary of ``module`` for the host an action plugin's task runs on, asked with
    :data:`UNAME` over the task's connection as it is (become included): ``(FQCN, {})`` to pass
    to ``_execute_module``, or ``("", result)`` with the failed result that says why not."""
    uname = action._low_level_execute_command(UNAME)
    try:
        if uname["rc"] != 0:
            raise ValueError(f"uname exited with {uname['rc']}: {(uname['stderr'] or uname['stdout']).strip()}")
        platform = parse_uname(uname["stdout"])
    except ValueError as e:
        return "", {"failed": True, "msg": f"{host}: cannot tell the system and architecture ({e}); "
                                           f"{COLLECTION}.{module} needs a POSIX host with uname"}
    why = problem(host, platform, module)
    if why:
        return "", {"failed": True, "msg": why, "platform": platform.suffix}
    return f"{COLLECTION}.__bin__.{binary_name(module, platform)}", {}


def problem(host: str, platform: Platform, module: str | None = None) -> str:
    """One line saying why ``host`` cannot run the modules (or ``module``), or '' when it can."""
    built = built_platforms(module)
    if any(p.suffix == platform.suffix for p in built):
        return ""
    what = f"{COLLECTION}.{module}" if module else f"the {COLLECTION} modules are"
    verb = " is" if module else ""
    if not built:
        return (f"{host} is {platform.label} ({platform.arch}): {what}{verb} not built for any platform "
                f"(no binary in {BIN_DIR}; run `make build`)")
    return (f"{host} is {platform.label} ({platform.arch}): {what}{verb} built for "
            f"{' and '.join(str(p) for p in built)} only")
