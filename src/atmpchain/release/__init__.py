"""QP release: review by exception, certification, release before all results, late results and
out-of-specification supply (issue 12)."""
