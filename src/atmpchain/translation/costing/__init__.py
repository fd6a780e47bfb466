"""Cost of goods per batch (issue 14 item 6): the model, its scenarios, its sensitivity
and the published figures it is compared with."""
