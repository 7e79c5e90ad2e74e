"""Reservations: stock of approved, unexpired lots held for a demand."""
