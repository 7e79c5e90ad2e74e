"""Lots and QC.

Decisions and reversals (``services``); lookups, the queue and the history (``selectors``).
"""
