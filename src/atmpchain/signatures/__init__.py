"""Electronic signatures bound to the hash of what was signed (21 CFR 11.50, 11.70)."""
