"""Cycle counts: count sessions, blind counting, review and posting."""
