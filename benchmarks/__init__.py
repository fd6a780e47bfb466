"""Benchmarks of atmpchain, each printing its numbers and its ratio against a raw baseline.

Speed is measured here, never asserted in tests. Run them all with `make bench`
(`python -m benchmarks`), a few by name (`python -m benchmarks audit`), or a short smoke run with
`--quick`. Each benchmark builds its own scratch databases (a temporary SQLite file and, when the
server answers, a PostgreSQL database) and removes them when it ends.
"""
