"""The permission table as data: `permissions.toml`, read and checked (issue 10 item 8).

The file says, per permission, which roles hold it and why, and which permissions no single role
may hold together (segregation of duties). A table that names an unknown role or permission,
leaves a permission out, or gives one role both sides of a separated pair is refused when the
application starts, naming what is wrong.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

from atmpchain.accounts.roles import MACHINE_ROLES, Permission, Role

#: Stands for every role a person holds (all but the machine roles); "-role" then removes one.
PEOPLE = "people"


class PermissionTableError(ValueError):
    """The permission table is not valid; the message names the entry and the rule."""


@dataclass(frozen=True, slots=True)
class PermissionTable:
    """Who holds each permission, why, and the pairs no role may hold together."""

    roles: dict[Permission, frozenset[Role]]
    why: dict[Permission, str]
    separate: tuple[tuple[Permission, Permission, str], ...]


def _roles(permission: str, names: Any) -> frozenset[Role]:
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise PermissionTableError(f"permission '{permission}': roles must be a list of names")
    known = {r.value: r for r in Role}
    held: set[Role] = set()
    removed: set[Role] = set()
    for name in names:
        target, bare = (removed, name[1:]) if name.startswith("-") else (held, name)
        if bare == PEOPLE:
            target.update(set(Role) - MACHINE_ROLES)
        elif bare in known:
            target.add(known[bare])
        else:
            raise PermissionTableError(f"permission '{permission}': unknown role '{bare}'")
    return frozenset(held - removed)


def parse_permission_table(text: str) -> PermissionTable:
    """Read and check a permission table in TOML."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PermissionTableError(f"the permission table is not valid TOML: {exc}") from exc
    extra = set(data) - {"permissions", "separate"}
    if extra:
        raise PermissionTableError(f"unknown section(s) {sorted(extra)}")
    entries = data.get("permissions", {})
    by_value = {p.value: p for p in Permission}
    roles: dict[Permission, frozenset[Role]] = {}
    why: dict[Permission, str] = {}
    for name, entry in entries.items():
        if name not in by_value:
            raise PermissionTableError(f"unknown permission '{name}'")
        if not isinstance(entry, dict) or set(entry) != {"roles", "why"}:
            raise PermissionTableError(f"permission '{name}' needs exactly 'roles' and 'why'")
        if not isinstance(entry["why"], str) or not entry["why"].strip():
            raise PermissionTableError(f"permission '{name}': say why in 'why'")
        permission = by_value[name]
        roles[permission] = _roles(name, entry["roles"])
        why[permission] = entry["why"].strip()
    missing = [p.value for p in Permission if p not in roles]
    if missing:
        raise PermissionTableError(f"no roles given for permission(s) {missing}")
    for permission, held in roles.items():
        if permission is not Permission.RECORD_READINGS and held & MACHINE_ROLES:
            raise PermissionTableError(
                f"permission '{permission.value}': a machine role only records readings"
            )
    separate: list[tuple[Permission, Permission, str]] = []
    for pair in data.get("separate", []):
        names = pair.get("permissions") if isinstance(pair, dict) else None
        if not isinstance(names, list) or len(names) != 2 or not all(n in by_value for n in names):
            raise PermissionTableError(f"a [[separate]] entry needs two known permissions: {pair}")
        first, second = by_value[names[0]], by_value[names[1]]
        both = roles[first] & roles[second]
        if both:
            raise PermissionTableError(
                f"segregation of duties: role(s) {sorted(r.value for r in both)} would hold both "
                f"'{first.value}' and '{second.value}' ({pair.get('why', '')})"
            )
        separate.append((first, second, str(pair.get("why", ""))))
    return PermissionTable(roles=roles, why=why, separate=tuple(separate))


def read_permission_table() -> PermissionTable:
    """The table shipped with the package."""
    text = resources.files("atmpchain.accounts").joinpath("permissions.toml").read_text("utf-8")
    return parse_permission_table(text)


def load_permission_table() -> dict[Permission, frozenset[Role]]:
    """Who may do what, from the shipped table."""
    return read_permission_table().roles
