"""The catalog and the sites.

Products, warehouses and bins (``services``); lookups by code and search (``selectors``).
"""
