"""Orders: recorded with their lines, allocated into a reservation, picked, shipped or cancelled.

* ``services``: ``create_order``, ``allocate_order``, ``cancel_order`` and
  ``lock_order``, the first lock of every status change;
* ``picking``: ``start_picking``, the scan checks (``check_bin``,
  ``check_lot``) and ``pick_line``, with re-allocation of short picks;
* ``shipping``: ``ship_order``, ``SHIP`` entries for exactly what was picked;
* ``selectors``: the order list and an order's detail for its screen;
* ``views``, ``forms``, ``filters``, ``tables``, ``urls``: the screens.
"""
