"""The catalogue's tables: products and their barcodes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from oms.core.types import LINE, NAME, SHORT, Base, utcnow


class Product(Base):
    __tablename__ = "product"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(SHORT), unique=True)
    name: Mapped[str] = mapped_column(String(NAME))
    weight_g: Mapped[int] = mapped_column(Integer, default=0)
    price_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    tags: Mapped[str] = mapped_column(String(LINE), default="")  # comma separated, lower case
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    barcodes: Mapped[list[Barcode]] = relationship(back_populates="product", cascade="all, delete-orphan")

    __table_args__ = (
        CheckConstraint("weight_g >= 0", name="weight_nonneg"),
        Index("ix_product_name_lower", "name"),
    )


class Barcode(Base):
    __tablename__ = "barcode"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # gtin, upc, ean, custom
    code: Mapped[str] = mapped_column(String(SHORT), unique=True)

    product: Mapped[Product] = relationship(back_populates="barcodes")
