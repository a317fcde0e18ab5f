"""lake stage."""
