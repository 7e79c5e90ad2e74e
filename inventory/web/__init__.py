"""What every inventory screen shares: the table pattern, list rendering, formats."""
