"""The facility this installation serves: its name and ISBT 128 facility number (FIN)."""
