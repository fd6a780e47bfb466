"""Quality: deviations and their CAPAs (corrective and preventive actions)."""
