"""The command line of the domain: `seed`, `orders`, `stock`, `check`, `report`, `invoice`, `credit-note`, `o2c`, the
`doc` commands, `supplier`, `po`, `count`, `transfer`, `reorder` and `rma`, and the database option the sync and EDI
commands share. `main.py` puts them under one parser."""

from .options import add_db_option, open_db

__all__ = ["add_db_option", "open_db"]
