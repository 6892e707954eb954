"""Transfers: stock sent from one location to another on a transfer document (TR-n). Shipping books the units out
of the sending location through the ledger; until the receiving location books them in they are in transit,
visible by product and destination. Receiving releases the orders waiting there (``routing.restock``).

Owns the `stock_transfer` and `stock_transfer_line` tables. Stands above routing; purchasing reads what is in
transit when it suggests what to buy."""

from .models import TransferStatus
from .transfers import (
    TRANSFER_PREFIX,
    TransferLineView,
    TransferView,
    cancel_transfer,
    create_transfer,
    in_transit,
    list_transfers,
    receive_transfer,
    ship_transfer,
    status_title,
    transfer_detail,
    transfer_id,
    transfer_number,
)

__all__ = [
    "TransferStatus",
    "TRANSFER_PREFIX",
    "TransferLineView",
    "TransferView",
    "cancel_transfer",
    "create_transfer",
    "in_transit",
    "list_transfers",
    "receive_transfer",
    "ship_transfer",
    "status_title",
    "transfer_detail",
    "transfer_id",
    "transfer_number",
]
