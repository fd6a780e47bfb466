"""Cleanrooms: rooms and workstations by Annex 1 grade, room status and cleaning, gowning
qualification, and the gate a batch step passes before it is signed (issue 13)."""
