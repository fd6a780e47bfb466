"""The clinical-trial gateway: inquiries from sponsors and investigators, triage, feasibility
against the facility's own capacity, and trials set up for the chain (issue 16)."""
