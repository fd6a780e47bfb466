"""Quality control: specifications as data, samples and results, OOS investigations (issue 12)."""
