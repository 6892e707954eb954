"""Catalog: what Quayside sells. Products, their barcodes (GTIN, UPC, EAN or our own), weights, prices and tags.

Owns the `product` and `barcode` tables. It stands on `core` alone; every other capability
names products by id or SKU."""

from .products import (
    BARCODE_KINDS,
    add_barcode,
    add_product,
)

__all__ = [
    "BARCODE_KINDS",
    "add_product",
    "add_barcode",
]
