"""The ledger: entries posted with their balances (``posting``), monthly partitions
(``partitions``), the proof that balances equal the ledger (``reconcile``), reads (``selectors``).
"""
