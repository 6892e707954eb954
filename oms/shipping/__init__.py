"""Shipping: from a packed box to the customer's door.

Shipments, packages and their lines, labels bought through the outbox, ship confirmation
(stock leaves, the channel hears of it), tracking events, pallets and SSCC counters."""
