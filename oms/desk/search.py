"""Finding orders by any part a person remembers: a number, a channel order id, a name, an email, a SKU.

A customer on the phone gives "Robinson" or "son7@gmail"; a supervisor reads half a
SKU off a carton. Three characters or more are found anywhere inside the order
number, the channel order id, the customer's name and email, and inside the SKUs
of the order's lines, whatever the case. Two characters are too common to look for
inside words, so they find fields that start with them, as an index range.
Tracking numbers are scanned or typed from the start: they match by prefix.

Decisions worth knowing:
- The index is the database's own text search, with no library of ours: SQLite's
  FTS5 with its trigram tokenizer (tables ``order_search`` over ``sales_order`` and
  ``product_search`` over ``product``, kept current by triggers; migration 0011),
  and PostgreSQL's pg_trgm GIN indexes, which answer ``ILIKE '%text%'``. Both find
  a substring of three characters or more through the index, so a search stays
  within the queue's speed at hundreds of thousands of orders.
- Several words must each be found, in any of the order's fields ("hannah 10299"),
  when each has three characters or more; otherwise the text is one piece ("Jo Li").
- SKUs are matched in the product catalogue, and orders found through their lines'
  products: the catalogue changes rarely, so importing orders pays nothing for it.
  A line whose SKU is not in the catalogue is found by its SKU's start.
- SQLite drops a table's triggers with the table: a later migration that rebuilds
  ``sales_order`` or ``product`` (batch mode) must create migration 0011's triggers
  again.
"""

from __future__ import annotations

from sqlalchemy import Select, and_, column, literal_column, or_, select, table, union
from sqlalchemy.orm import Session

from oms.catalog.models import Product
from oms.orders.models import OrderLine, SalesOrder
from oms.shipping.models import Shipment

MIN_SEARCH = 2  # one character matches too much to be a search
INSIDE_MIN = 3  # trigrams: the shortest text found inside a field

ORDER_FIELDS = (SalesOrder.number, SalesOrder.external_id, SalesOrder.customer_name, SalesOrder.customer_email)
SQLITE_INDEX_TABLES = ("order_search", "product_search")
POSTGRES_INDEXES = ("ix_sales_order_number_trgm", "ix_sales_order_external_id_trgm", "ix_sales_order_customer_name_trgm",
                    "ix_sales_order_customer_email_trgm", "ix_product_sku_trgm")

_order_search = table("order_search", column("rowid"))
_product_search = table("product_search", column("rowid"))


def is_search_index(name: str | None) -> bool:
    """A table or index of the search that the models do not declare (FTS5 tables and their shadows, trigram indexes)."""
    if not name:
        return False
    return name in POSTGRES_INDEXES or any(name == t or name.startswith(t + "_") for t in SQLITE_INDEX_TABLES)


def _next_prefix(text: str) -> str:
    return text[:-1] + chr(ord(text[-1]) + 1)


def _prefix(col, text: str):
    """col starts with text, as an index range (LIKE would not use the index on both databases)."""
    return and_(col >= text, col < _next_prefix(text))


def _variants(text: str) -> list[str]:
    return list(dict.fromkeys(v for v in (text, text.lower(), text.upper(), text.capitalize(), text.title()) if v))


def normalized(text: str) -> str:
    return " ".join(text.split())


def _pieces(q: str) -> list[str]:
    """What must each be found: every word when all are long enough to look for inside words, else the whole text."""
    words = q.split(" ")
    if len(words) > 1 and all(len(w) >= INSIDE_MIN for w in words):
        return words
    return [q]


def _fts_query(pieces: list[str]) -> str:
    # Each piece a quoted FTS5 string: whatever a person types is text, never query syntax.
    return " AND ".join('"' + p.replace('"', '""') + '"' for p in pieces)


def _like_pattern(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _inside(session: Session, q: str) -> list[Select]:
    """Orders with the text inside a field, and orders with a line whose product's SKU holds it."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        orders = select(_order_search.c.rowid).where(literal_column("order_search").op("MATCH")(_fts_query(_pieces(q))))
        products = select(_product_search.c.rowid).where(literal_column("product_search").op("MATCH")(_fts_query([q])))
    else:
        orders = select(SalesOrder.id).where(and_(*[
            or_(*[f.ilike(_like_pattern(p), escape="\\") for f in ORDER_FIELDS]) for p in _pieces(q)]))
        products = select(Product.id).where(Product.sku.ilike(_like_pattern(q), escape="\\"))
    return [orders, select(OrderLine.order_id).where(OrderLine.product_id.in_(products))]


def search_ids(session: Session, text: str) -> Select | None:
    """The ids of the orders the text finds (see the module's docstring); None when it is too short to search."""
    q = normalized(text)
    if len(q) < MIN_SEARCH:
        return None
    parts: list[Select] = []
    if len(q) >= INSIDE_MIN:
        parts += _inside(session, q)
    else:
        variants = _variants(q)
        numbers = variants + ([f"#{q}"] if not q.startswith("#") else [])
        parts += [select(SalesOrder.id).where(_prefix(SalesOrder.number, v)) for v in numbers]
        parts += [select(SalesOrder.id).where(_prefix(f, v)) for f in (SalesOrder.external_id, SalesOrder.customer_name)
                  for v in variants]
        if q.isascii():
            parts.append(select(SalesOrder.id).where(_prefix(SalesOrder.customer_email, q.lower())))
    for v in dict.fromkeys((q, q.upper())):
        parts.append(select(OrderLine.order_id).where(_prefix(OrderLine.sku, v)))
        parts.append(select(Shipment.order_id).where(_prefix(Shipment.tracking_number, v)))
    return union(*parts)
