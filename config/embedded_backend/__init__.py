"""Django's PostgreSQL backend on the embedded server, started at the first connection."""
