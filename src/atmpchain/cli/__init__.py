"""Command-line adapter: `atmpchain ...` (Typer + Rich)."""
