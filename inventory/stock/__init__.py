"""Stock changes and reads.

``receipts`` (new lots into bins), ``movements`` (adjustments, plain
shipments, moves between bins), ``counts`` (physical counts), ``selectors``
(on hand, reserved, available per product and warehouse).
"""
