"""Partners: EDI trading partners and their documents.

Partners' settings (identifiers, transport, the item numbers they use and their ship-to
locations), control numbers, and every document received or sent with its acknowledgement
state. The X12 reading and writing itself is in `sync.channels.edi_x12`."""
