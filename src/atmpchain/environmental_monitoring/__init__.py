"""Environmental monitoring of the cleanrooms: the sampling plan, results against alert and action
limits, excursions and adverse trends (issue 13)."""
