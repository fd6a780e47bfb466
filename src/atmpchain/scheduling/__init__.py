"""Scheduling: rooms, devices, operators, QC and patients' windows planned with a constraint
solver, and re-planned when something breaks (issue 15)."""
