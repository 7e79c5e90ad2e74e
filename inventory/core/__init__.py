"""The write path every inventory area shares.

* ``errors``: the domain errors and the API code and status of each;
* ``validation``: checks of what a service is passed (ownership, text, times);
* ``quantities``: parsing quantities and amounts;
* ``transactions``: one transaction with short timeouts, retried on contention;
* ``idempotency``: operations and their keys, at most one effect per key;
* ``writes``: the write policy of API writes and screen actions;
* ``locks``: every row lock of the app and the order they are taken in;
* ``tokens``: API tokens, issued and resolved.

Nothing here imports from an area package; the areas import from here.
"""
