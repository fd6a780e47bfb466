"""Design of experiments for a pre-GMP process (issue 14 item 5): designs, run sheets,
analysis and optimisation."""
