"""Reservations: stock of approved, unexpired lots held for a demand.

* ``requests``: a demand's lines (``LineRequest``, ``parse_lines``) and what
  the services answer (``ReservationResult``);
* ``allocation``: ``reserve_stock``, the FEFO allocation and its passes;
* ``lifecycle``: ``issue_reservation`` and ``cancel_reservation``;
* ``expiry``: ``release_allocations`` (a reservation's stock, released once)
  and ``expire_reservations``, the cross-tenant sweep;
* ``selectors``: ``get_reservation`` and ``load_reservation``.

Orders allocate into reservations from ``inventory.orders``.
"""
