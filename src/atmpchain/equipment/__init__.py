"""Critical equipment: identity, class, qualification, calibration and maintenance."""
