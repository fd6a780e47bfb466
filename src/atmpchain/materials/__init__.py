"""Raw, ancillary and starting materials: item master, received lots, QA release, stock, expiry."""
