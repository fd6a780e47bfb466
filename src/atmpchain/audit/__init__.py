"""Trust core: the append-only, hash-chained audit trail (Annex 11 §9, 21 CFR 11.10(e))."""
