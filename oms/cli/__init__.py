"""The command line of the domain: `seed`, `orders`, `stock`, `check`, `report`, the `doc` commands, `supplier`, `po`,
`count`, `transfer` and `reorder`, and the database option the sync and EDI commands share. `main.py` puts them under one parser."""

from .options import add_db_option, open_db

__all__ = ["add_db_option", "open_db"]
