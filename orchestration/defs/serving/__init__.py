"""The marts published from DuckDB to the PostgreSQL serving database BI tools read."""
