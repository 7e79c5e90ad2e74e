"""Orders: recorded with their lines, allocated into a reservation."""
