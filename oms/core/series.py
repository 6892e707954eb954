"""Number series kept in a one-row counter table (PO-1001…, RMA-1001…): the next number is taken with a
conditional update the database checks, so two stations never get the same one.

(Invoices and credit notes need more: a series without gaps, whose number is given back when the issuing
transaction rolls back; oms.invoicing keeps those.)
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session


def take_next(session: Session, counter, first: int) -> int:
    """The next number of ``counter`` (a mapped class with ``id`` and ``next_number``), starting at ``first``."""
    table = counter.__table__
    if session.get(counter, 1) is None:
        try:
            with session.begin_nested():
                session.add(counter(id=1, next_number=first))
        except IntegrityError:  # another station made the row first
            pass
    return session.connection().execute(
        update(table).where(table.c.id == 1).values(next_number=table.c.next_number + 1)
        .returning(table.c.next_number - 1)).scalar_one()
