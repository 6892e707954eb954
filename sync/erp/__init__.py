"""ERP hand-off connectors: what the business issues (invoices, credit notes, shipments) sent to the books.

Each module declares a ``SPEC`` of role ``erp`` (``sync.registry`` walks this package). A connection of
these kinds subscribes to the domain's publications (``ConnectorSpec.subscribes``), so each invoice,
credit note and confirmed shipment is queued in the outbox for it as it is issued, and the engine
sends the rows: the file drop as batches of CSV and JSON files, the webhook as signed HTTPS POSTs.
"""
