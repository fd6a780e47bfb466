"""Hospital ATMP center: catalogue, orders, receipt, thaw scheduled to the infusion, bedside."""
