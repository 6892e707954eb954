"""Users: the people who work at the stations, by user name and display name."""

from .directory import (
    add_user,
    user_display_name,
)

__all__ = [
    "user_display_name",
    "add_user",
]
