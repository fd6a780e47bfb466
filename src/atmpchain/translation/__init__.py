"""Pre-GMP translation: from a research routine to a GMP-ready process with gaps, readiness, FMEA,
design of experiments, cost of goods and a draft master batch record (issue 14)."""
