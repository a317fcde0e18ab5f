"""Raw tables: one partitioned asset per canonical entity, with its blocking checks."""
