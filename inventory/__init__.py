"""Stock of a tenant: catalog, lots and QC, the ledger, stock changes, reservations, orders.

One Django app (label ``inventory``, one ``models.py``, one ``migrations/``),
its code split into packages by area. The models stay one module: they are
the schema every area shares (the ledger, balances and reservations refer
to each other's tables and constraints), and one module keeps them, their
CHECKs and their querysets in one place for the migrations to match. Each area holds its writes
(``services.py`` or modules named for what they do) and its reads
(``selectors.py``):

* ``core``: the write path every area shares (domain errors, input checks,
  quantities, the transaction and retry policy, idempotency keys, row locks,
  API tokens);
* ``catalog``: products, warehouses and bins, lookups by code and search;
* ``lots``: QC decisions on lots and their history;
* ``ledger``: posting entries with their balances, partitions, reconcile;
* ``stock``: receipts, adjustments, shipments, moves, counts, stock reads;
* ``reservations``: allocation, issue and cancel, expiry, reads;
* ``orders``: orders and their allocation into a reservation;
* ``api``: the JSON API (``/api/v1/``), one router per area.

The screens (``views.py``, ``forms.py``, ``urls.py``, ``templates/``), the
admin, the jobs (``jobs.py`` bodies, ``tasks.py`` schedule), the demo data
and the management commands stay at the app's top level. Domain packages
never import from ``api`` or the screens.
"""
