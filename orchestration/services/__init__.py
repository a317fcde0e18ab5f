"""The services a lakehouse runs beside its code: the local S3 server, the Dagster instance."""
