"""Loading: one entity from the landing zone or a published feed into the lake."""
