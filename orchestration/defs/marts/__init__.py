"""The marts published from DuckDB to the Iceberg namespace `marts`."""
