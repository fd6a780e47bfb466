"""Storage locations and the chain of custody of product units (issue 4)."""
