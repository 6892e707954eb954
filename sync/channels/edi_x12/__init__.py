"""ANSI X12 EDI for wholesale partners: envelopes, 997 acknowledgments and the 850/855/856/810 documents.

Pure Python, no database: partners, control-number persistence, transports and the mapping
to orders are built on top of this package.
"""
