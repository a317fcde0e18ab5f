"""Stage `report`: the public scorecard site and open-data package, built from the marts."""
