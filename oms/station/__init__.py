"""Station: what a station says about itself, for the person at it and for support.

The About box's facts (version, data folders, every bundled library's licence) and Help → Copy
diagnostics (version, operating system, database and schema, printers, connections, the last log
lines with every secret taken out).
"""
