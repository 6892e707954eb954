"""Users: the people who work at the stations, their roles and what each role may do, and signing in.

Roles and permissions are one table in code (``permissions.ROLES``); the services call ``require`` where the work
happens, so a hidden button is never the only guard. Passwords and PINs are argon2id hashes (``passwords``).
"""

from .directory import (
    SignIn,
    StationStart,
    UserRow,
    actor_for,
    add_user,
    badge_of,
    change_own_password,
    confirm_override,
    disable_user,
    first_admin,
    has_real_users,
    identify_badge,
    list_users,
    lock_user,
    lockout_delay,
    new_badge,
    set_password,
    set_pin,
    set_role,
    sign_in,
    sign_in_badge,
    station_start,
    unlock_user,
    user_display_name,
)
from .permissions import PERMISSIONS, ROLES, may, require, role_label, role_may, who_may

__all__ = [
    "PERMISSIONS", "ROLES", "SignIn", "StationStart", "station_start", "UserRow", "actor_for", "add_user", "badge_of", "change_own_password",
    "confirm_override", "disable_user", "first_admin", "has_real_users", "identify_badge", "list_users", "lock_user",
    "lockout_delay", "may", "new_badge", "require", "role_label", "role_may", "set_password", "set_pin", "set_role",
    "sign_in", "sign_in_badge", "unlock_user", "user_display_name", "who_may",
]
