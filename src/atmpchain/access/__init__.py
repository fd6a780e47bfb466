"""QA's signed approval of access (Annex 11 §12): above signatures, so that accounts, below
them, never reaches up to sign (ADR 0015, issue 9 review item 11)."""
