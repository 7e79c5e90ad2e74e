"""Reservations in the database: one PL/pgSQL call allocates, writes and answers.

Why: a reservation made from Python cost 22 round trips (savepoints, lookups,
one ORM insert per table) and most of its CPU in building and reading
statements. These functions do the same work next to the data, so an API
reservation is two round trips (the token, then one call) and the Python
around it is parsing and answering.

What (all ``SECURITY INVOKER``: every statement runs as the caller, under the
tenant policies, so with no tenant context they see and write nothing):

* ``inventory_lot_available(qc_status, expires_on, on_day)``: the one
  definition of a lot whose stock can be promised (approved, not expired on
  that day). An inlinable SQL function, so the planner sees the plain
  comparisons; the ORM uses it through ``inventory.models.LotAvailable``.
* ``inventory_change_balances(...)``: the one rule for changing balances
  (all but plain additions), which ``inventory.ledger.posting.post_entries``
  calls too: rows locked in the global order ``(product_id, location_id,
  lot_id)``, one conditional update, refused rows reported
  (``INSUFFICIENT_STOCK``, or a serialization failure when a lot being
  reserved left approved stock meanwhile, which the caller retries).
* ``inventory_post(...)``: the balance changes and the ledger entries.
* ``inventory_release_reservations(...)``: ``RELEASE`` entries for every
  allocation of reservations the caller just took out of ``OPEN``.
* ``inventory_allocate(...)``: the allocation of ``reserve_stock``
  (pass 1 ``SKIP LOCKED`` in FEFO order, pass 3 shared wait when sold out,
  pass 2 waiting for every candidate in the global order and releasing
  overdue holds), then the reservation, its lines, allocations and entries.
  Returns what it wrote as JSON.
* ``inventory_api_token(secret_hash)``: the live token of a bearer secret and
  its tenant, in one statement (the lookup policy's setting set and cleared
  inside).
* ``inventory_claim_key(...)``: an idempotency key claimed, or the stored
  answer to replay (``inventory.core.idempotency``'s rules).
* ``inventory_issue(...)`` and ``inventory_api_issue(...)``: a reservation
  shipped (``SHIP`` and ``RELEASE`` entries), from Python and as
  ``POST /api/v1/reservations/{id}/issue`` whole; ``inventory_cancel`` and
  ``inventory_api_cancel`` the same for a cancellation (``RELEASE``).
* ``inventory_reservation_json(...)``: a reservation as the API answers it.
* ``inventory_api_reserve(...)``: ``POST /api/v1/reservations`` whole: tenant
  context and lock timeout, the idempotency key (claim, expiry, replay),
  warehouse and SKU resolution, per-unit decimal places, the allocation,
  the answer and its storage for a replay.

Domain refusals are raised with SQLSTATE ``SY001``, the error code as the
message and the sentence for people as the detail; the caller turns them into
``inventory.core.errors`` (``inventory.core.functions``). Everything it wrote is
then rolled back with it.
"""

from django.db import migrations

from config.database import ROLE_NAMES

APP = ROLE_NAMES["app"]

CREATE = r"""
CREATE FUNCTION public.inventory_lot_available(qc_status text, expires_on date, on_day date)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN qc_status = 'APPROVED' AND (expires_on IS NULL OR expires_on >= on_day);

CREATE TYPE public.inventory_candidate AS (
    balance_id bigint,
    lot_id bigint,
    location_id bigint,
    free numeric,
    lot_code text,
    location_code text,
    expires_on date,
    received_at timestamptz
);

-- One ledger entry to be (``inventory.ledger.posting.Posting``).
CREATE TYPE public.inventory_posting AS (
    kind text,
    lot_id bigint,
    location_id bigint,
    product_id bigint,
    warehouse_id bigint,
    quantity numeric,
    reason text
);

-- A refusal the caller turns into a domain error.
CREATE FUNCTION public.inventory_refuse(code text, message text)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'SY001', MESSAGE = code, DETAIL = message;
END;
$$;

-- A timestamp as Django's JSON encoder writes it (milliseconds, "Z").
CREATE FUNCTION public.inventory_json_time(moment timestamptz)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
RETURN CASE
    WHEN moment IS NULL THEN NULL
    WHEN date_part('microseconds', moment)::bigint % 1000000 = 0
        THEN to_char(moment AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
    ELSE to_char(moment AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
END;

-- Change the balances of postings, as ``inventory.ledger.posting.post_entries``
-- does for everything but plain additions (which it upserts): the postings of
-- one lot and location summed into one change (RESERVE and RELEASE move
-- ``reserved``, every other kind ``on_hand``), one conditional UPDATE with its
-- rows locked first in the global order. A row is refused when the change
-- would leave less on hand than reserved or reserved below zero; a row gaining
-- reserved stock must still belong to an approved lot in this statement's
-- snapshot (a QC reversal may have committed while we waited): otherwise a
-- serialization failure, which the caller retries.
CREATE FUNCTION public.inventory_change_balances(
    p_tenant bigint, p_postings public.inventory_posting[]
) RETURNS void
LANGUAGE plpgsql
-- Planned once per connection: the plan does not depend on the values, and
-- planning these queries anew cost as much as running them.
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_refused record;
    v_lots bigint[];
BEGIN
    IF coalesce(cardinality(p_postings), 0) = 0 THEN
        RETURN;
    END IF;
    v_lots := ARRAY(SELECT DISTINCT posting.lot_id FROM unnest(p_postings) AS posting);
    WITH changes AS (
        SELECT posting.lot_id, posting.location_id,
               coalesce(sum(posting.quantity) FILTER (
                   WHERE posting.kind NOT IN ('RESERVE', 'RELEASE')), 0) AS on_hand,
               coalesce(sum(posting.quantity) FILTER (
                   WHERE posting.kind IN ('RESERVE', 'RELEASE')), 0) AS reserved,
               (array_agg(abs(posting.quantity) ORDER BY posting.ordinality))[1] AS first_amount
          FROM unnest(p_postings) WITH ORDINALITY AS posting
         GROUP BY posting.lot_id, posting.location_id
    ), locked AS MATERIALIZED (
        SELECT balance.id, changes.on_hand, changes.reserved
          FROM public.inventory_balance AS balance
          JOIN changes
            ON balance.lot_id = changes.lot_id AND balance.location_id = changes.location_id
         WHERE balance.tenant_id = p_tenant
           -- The lots as an array: an index condition whatever the planner
           -- guesses of the array's length (it guesses ten rows of unnest).
           AND balance.lot_id = ANY(v_lots)
         ORDER BY balance.product_id, balance.location_id, balance.lot_id
           FOR UPDATE OF balance
    ), changed AS (
        UPDATE public.inventory_balance AS balance
           SET on_hand = balance.on_hand + locked.on_hand,
               reserved = balance.reserved + locked.reserved,
               updated_at = now()
          FROM locked
         WHERE balance.id = locked.id
           AND balance.on_hand + locked.on_hand >= balance.reserved + locked.reserved
           AND balance.reserved + locked.reserved >= 0
           AND (locked.reserved <= 0 OR EXISTS (
                SELECT 1 FROM public.inventory_lot AS lot
                 WHERE lot.tenant_id = balance.tenant_id AND lot.id = balance.lot_id
                   AND lot.qc_status = 'APPROVED'))
        RETURNING balance.lot_id, balance.location_id
    )
    SELECT changes.lot_id, changes.location_id, changes.reserved, changes.first_amount
      INTO v_refused
      FROM changes
     WHERE NOT EXISTS (
           SELECT 1 FROM changed
            WHERE changed.lot_id = changes.lot_id AND changed.location_id = changes.location_id)
     ORDER BY changes.location_id, changes.lot_id
     LIMIT 1;
    IF FOUND THEN
        IF v_refused.reserved > 0 AND EXISTS (
            SELECT 1 FROM public.inventory_lot
             WHERE id = v_refused.lot_id AND qc_status <> 'APPROVED'
        ) THEN
            RAISE EXCEPTION USING ERRCODE = 'serialization_failure',
                MESSAGE = 'a lot left approved stock while it was being allocated';
        END IF;
        PERFORM public.inventory_refuse(
            'INSUFFICIENT_STOCK',
            format('Not enough stock of lot %s at %s to take %s.',
                   (SELECT code FROM public.inventory_lot WHERE id = v_refused.lot_id),
                   (SELECT code FROM public.warehouse_location WHERE id = v_refused.location_id),
                   v_refused.first_amount));
    END IF;
END;
$$;

-- Post ledger entries: their balance changes (``inventory_change_balances``),
-- then the entries, in the order given.
CREATE FUNCTION public.inventory_post(
    p_tenant bigint,
    p_postings public.inventory_posting[],
    p_operation bigint,
    p_user integer,
    p_token bigint,
    p_occurred_at timestamptz
) RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM public.inventory_change_balances(p_tenant, p_postings);
    INSERT INTO public.inventory_ledgerentry
        (tenant_id, occurred_at, kind, product_id, warehouse_id, location_id, lot_id,
         quantity, reason, operation_id, actor_user_id, api_token_id)
    SELECT p_tenant, p_occurred_at, posting.kind, posting.product_id, posting.warehouse_id,
           posting.location_id, posting.lot_id, posting.quantity, posting.reason, p_operation,
           p_user, p_token
      FROM unnest(p_postings) WITH ORDINALITY AS posting
     ORDER BY posting.ordinality;
END;
$$;

CREATE FUNCTION public.inventory_release_reservations(
    p_tenant bigint,
    p_reservations bigint[],
    p_operation bigint,
    p_user integer,
    p_token bigint,
    p_occurred_at timestamptz,
    p_reason text
) RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    v_holds public.inventory_posting[];
BEGIN
    SELECT array_agg(ROW('RELEASE', allocation.lot_id, allocation.location_id, lot.product_id,
                         location.warehouse_id, -allocation.quantity, p_reason
                     )::public.inventory_posting
                     ORDER BY allocation.reservation_id, allocation.id)
      INTO v_holds
      FROM public.inventory_allocation AS allocation
      JOIN public.inventory_lot AS lot
        ON lot.tenant_id = allocation.tenant_id AND lot.id = allocation.lot_id
      JOIN public.warehouse_location AS location
        ON location.tenant_id = allocation.tenant_id AND location.id = allocation.location_id
     WHERE allocation.tenant_id = p_tenant AND allocation.reservation_id = ANY(p_reservations);
    PERFORM public.inventory_post(
        p_tenant, v_holds, p_operation, p_user, p_token, p_occurred_at);
    RETURN coalesce(cardinality(v_holds), 0);
END;
$$;

-- Refuse a line that cannot be held: NO_QC_APPROVED_LOT when the product is on
-- hand in the warehouse only in lots that are not approved, else
-- INSUFFICIENT_STOCK. ``p_usable``: approved stock was seen, no need to look.
CREATE FUNCTION public.inventory_refuse_shortage(
    p_product bigint, p_warehouse bigint, p_today date, p_usable boolean
) RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    v_sku text := (SELECT sku FROM public.inventory_product WHERE id = p_product);
    v_code text := (SELECT code FROM public.warehouse_warehouse WHERE id = p_warehouse);
    v_usable numeric;
    v_unapproved numeric;
BEGIN
    IF NOT p_usable THEN
        SELECT sum(balance.on_hand) FILTER (
                   WHERE public.inventory_lot_available(lot.qc_status, lot.expires_on, p_today)),
               sum(balance.on_hand) FILTER (WHERE lot.qc_status <> 'APPROVED')
          INTO v_usable, v_unapproved
          FROM public.inventory_balance AS balance
          JOIN public.inventory_lot AS lot
            ON lot.tenant_id = balance.tenant_id AND lot.id = balance.lot_id
         WHERE balance.product_id = p_product AND balance.warehouse_id = p_warehouse;
        IF coalesce(v_usable, 0) = 0 AND coalesce(v_unapproved, 0) <> 0 THEN
            PERFORM public.inventory_refuse(
                'NO_QC_APPROVED_LOT',
                format('%s is on hand in %s, but none of it in an approved lot.', v_sku, v_code));
        END IF;
    END IF;
    PERFORM public.inventory_refuse(
        'INSUFFICIENT_STOCK', format('Not enough %s available in %s.', v_sku, v_code));
END;
$$;

-- Do open reservations past their expiry (at ``p_now``) hold ``p_product`` in
-- ``p_warehouse``? Stock the allocation's waiting pass would release. Inlined
-- by the planner into the queries that call it.
CREATE FUNCTION public.inventory_holds_overdue(
    p_tenant bigint, p_warehouse bigint, p_product bigint, p_now timestamptz
) RETURNS boolean
LANGUAGE sql STABLE
RETURN EXISTS (
    SELECT 1
      FROM public.inventory_reservation AS reservation
      JOIN public.inventory_reservationline AS line
        ON line.tenant_id = reservation.tenant_id AND line.reservation_id = reservation.id
     WHERE reservation.tenant_id = p_tenant
       AND reservation.warehouse_id = p_warehouse
       AND reservation.status = 'OPEN'
       AND reservation.expires_at <= p_now
       AND line.product_id = p_product
       AND line.allocated > 0
);

-- Take ``p_quantity`` from candidates in the order given (FEFO): what each one
-- gives (``takes``: lot, bin, quantity as text) and how much in all (``held``).
CREATE FUNCTION public.inventory_take(
    p_candidates public.inventory_candidate[], p_quantity numeric,
    OUT takes jsonb, OUT held numeric
)
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
    v_candidate public.inventory_candidate;
    v_remaining numeric := p_quantity;
    v_amount numeric;
BEGIN
    takes := '[]'::jsonb;
    held := 0;
    FOREACH v_candidate IN ARRAY coalesce(p_candidates, '{}') LOOP
        EXIT WHEN v_remaining <= 0;
        CONTINUE WHEN v_candidate.free <= 0;
        v_amount := least(v_candidate.free, v_remaining);
        takes := takes || jsonb_build_object(
            'lot_id', v_candidate.lot_id, 'location_id', v_candidate.location_id,
            'lot_code', v_candidate.lot_code, 'location_code', v_candidate.location_code,
            'quantity', v_amount::text);
        held := held + v_amount;
        v_remaining := v_remaining - v_amount;
    END LOOP;
END;
$$;

-- The operation the ledger entries of a service call belong to: the caller's,
-- or one with a generated key, written only now that something is written.
CREATE FUNCTION public.inventory_operation_for(
    p_tenant bigint, p_operation bigint, p_kind text, p_fingerprint text
) RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    v_operation bigint := p_operation;
BEGIN
    IF v_operation IS NULL THEN
        INSERT INTO public.inventory_operation (tenant_id, key, kind, fingerprint, created_at)
        VALUES (p_tenant, 'auto:' || gen_random_uuid(), p_kind, p_fingerprint, now())
        RETURNING id INTO v_operation;
    END IF;
    RETURN v_operation;
END;
$$;

CREATE FUNCTION public.inventory_allocate(
    p_tenant bigint,
    p_warehouse bigint,
    p_lines jsonb,
    p_reference text,
    p_allow_partial boolean,
    p_expires_at timestamptz,
    p_now timestamptz,
    p_today date,
    p_operation bigint,
    p_operation_kind text,
    p_operation_fingerprint text,
    p_user integer,
    p_token bigint
) RETURNS jsonb
LANGUAGE plpgsql
-- Planned once per connection: the plan does not depend on the values, and
-- planning these queries anew cost as much as running them.
SET plan_cache_mode = force_generic_plan
AS $$
-- ``p_lines``: ``[{"product_id": n, "quantity": "1.000"}, ...]``, validated and in
-- product id order (the order every allocation locks in). Writes nothing when
-- it refuses. See ``inventory.core.locks`` for the passes and why they are safe.
DECLARE
    c_batch CONSTANT integer := 8;   -- candidate rows one skip-locked query takes at most
    v_operation bigint := p_operation;
    v_line record;
    v_row record;
    v_candidates public.inventory_candidate[];
    v_taken_ids bigint[];
    v_batch integer;
    v_pool_free numeric;
    v_shared_known boolean;
    v_shared_rows integer;
    v_shared_free numeric;
    v_shared_overdue boolean;
    v_free numeric;
    v_held numeric;
    v_expired bigint[];
    v_plan jsonb := '[]'::jsonb;      -- per line: product, quantity, held, takes
    v_takes jsonb;
    v_anything boolean := false;
    v_reservation bigint;
    v_line_id bigint;
    v_holds public.inventory_posting[] := '{}';
    v_result_lines jsonb := '[]'::jsonb;
    v_allocations jsonb;
    v_allocation_id bigint;
    v_plan_line jsonb;
    v_take jsonb;
BEGIN
    FOR v_line IN
        SELECT (line ->> 'product_id')::bigint AS product_id,
               (line ->> 'quantity')::numeric AS quantity
          FROM jsonb_array_elements(p_lines) WITH ORDINALITY AS item(line, position)
         ORDER BY item.position
    LOOP
        v_candidates := '{}';
        v_taken_ids := '{}';
        v_pool_free := 0;
        v_shared_known := false;
        v_shared_rows := 0;
        v_shared_free := 0;
        v_shared_overdue := false;
        v_takes := '[]'::jsonb;
        v_held := 0;

        -- Pass 1 in a subtransaction, so the rows it took out of the global
        -- order can be given back before waiting for anything.
        BEGIN
            LOOP
                v_batch := 0;
                v_shared_rows := 0;
                v_shared_free := 0;
                v_shared_overdue := false;
                FOR v_row IN
                    WITH pool AS MATERIALIZED (
                        SELECT coalesce(sum(balance.on_hand - balance.reserved), 0) AS free
                          FROM public.inventory_balance AS balance
                          JOIN public.inventory_lot AS lot
                            ON lot.tenant_id = balance.tenant_id AND lot.id = balance.lot_id
                         WHERE balance.tenant_id = p_tenant
                           AND balance.product_id = v_line.product_id
                           AND balance.warehouse_id = p_warehouse
                           AND public.inventory_lot_available(lot.qc_status, lot.expires_on, p_today)
                           AND balance.on_hand > balance.reserved
                    ), picked AS (
                        SELECT balance.id AS balance_id, balance.lot_id, balance.location_id,
                               balance.on_hand - balance.reserved AS free,
                               lot.code AS lot_code, location.code AS location_code,
                               lot.expires_on, lot.received_at
                          FROM public.inventory_balance AS balance
                          JOIN public.inventory_lot AS lot
                            ON lot.tenant_id = balance.tenant_id AND lot.id = balance.lot_id
                          JOIN public.warehouse_location AS location
                            ON location.tenant_id = balance.tenant_id
                           AND location.id = balance.location_id
                         WHERE balance.tenant_id = p_tenant
                           AND balance.product_id = v_line.product_id
                           AND balance.warehouse_id = p_warehouse
                           AND public.inventory_lot_available(lot.qc_status, lot.expires_on, p_today)
                           AND balance.on_hand > balance.reserved
                           AND balance.id <> ALL(v_taken_ids)
                         ORDER BY lot.expires_on NULLS LAST, lot.received_at, balance.id
                         LIMIT c_batch
                           FOR UPDATE OF balance SKIP LOCKED
                    ), overdue AS (
                        SELECT public.inventory_holds_overdue(
                                   p_tenant, p_warehouse, v_line.product_id, p_now) AS due
                    ), shared AS (
                        SELECT balance.on_hand - balance.reserved AS free, overdue.due
                          FROM public.inventory_balance AS balance
                          JOIN public.inventory_lot AS lot
                            ON lot.tenant_id = balance.tenant_id AND lot.id = balance.lot_id
                         CROSS JOIN overdue
                         WHERE balance.tenant_id = p_tenant
                           AND balance.product_id = v_line.product_id
                           AND balance.warehouse_id = p_warehouse
                           AND public.inventory_lot_available(lot.qc_status, lot.expires_on, p_today)
                           AND balance.on_hand > 0
                         ORDER BY balance.product_id, balance.location_id, balance.lot_id
                           FOR SHARE OF balance
                    )
                    SELECT 'picked' AS kind, picked.balance_id, picked.lot_id, picked.location_id,
                           picked.free, picked.lot_code, picked.location_code,
                           picked.expires_on, picked.received_at, pool.free AS pool_free,
                           NULL::boolean AS due
                      FROM pool LEFT JOIN picked ON true
                     UNION ALL
                    SELECT 'shared', NULL, NULL, NULL, shared.free, NULL, NULL, NULL, NULL,
                           NULL, shared.due
                      FROM shared
                     WHERE (SELECT pool.free FROM pool) = 0
                LOOP
                    IF v_row.kind = 'picked' THEN
                        v_pool_free := v_row.pool_free;
                        IF v_row.balance_id IS NOT NULL THEN
                            v_candidates := v_candidates || ROW(
                                v_row.balance_id, v_row.lot_id, v_row.location_id, v_row.free,
                                v_row.lot_code, v_row.location_code, v_row.expires_on,
                                v_row.received_at)::public.inventory_candidate;
                            v_batch := v_batch + 1;
                        END IF;
                    ELSE
                        v_shared_rows := v_shared_rows + 1;
                        v_shared_free := v_shared_free + v_row.free;
                        v_shared_overdue := v_shared_overdue OR v_row.due;
                    END IF;
                END LOOP;
                -- The snapshot showed nothing free: the same statement waited (shared).
                v_shared_known := v_pool_free = 0;
                SELECT coalesce(sum(candidate.free), 0) INTO v_free FROM unnest(v_candidates) AS candidate;
                EXIT WHEN v_free >= v_line.quantity OR v_batch < c_batch;
                SELECT array_agg(candidate.balance_id) INTO v_taken_ids
                  FROM unnest(v_candidates) AS candidate;
            END LOOP;
            -- Take in FEFO order.
            SELECT taken.takes, taken.held INTO v_takes, v_held
              FROM public.inventory_take(
                       ARRAY(SELECT ROW(candidate.*)::public.inventory_candidate
                               FROM unnest(v_candidates) AS candidate
                              ORDER BY candidate.expires_on NULLS LAST, candidate.received_at,
                                       candidate.balance_id),
                       v_line.quantity) AS taken;
            IF v_held < v_line.quantity THEN
                -- Short: give back every row of this line before any wait.
                RAISE EXCEPTION USING ERRCODE = 'SY002';
            END IF;
        EXCEPTION WHEN SQLSTATE 'SY002' THEN
            NULL;
        END;

        IF v_held < v_line.quantity THEN
            IF NOT v_shared_known AND v_pool_free <= v_free THEN
                -- Pass 1 took all the snapshot showed free, and it is not enough:
                -- wait (shared) for whoever is changing the rows, read what they left.
                BEGIN
                    SELECT count(*), coalesce(sum(shared.free), 0), coalesce(bool_or(shared.due), false)
                      INTO v_shared_rows, v_shared_free, v_shared_overdue
                      FROM (
                        SELECT balance.on_hand - balance.reserved AS free, overdue.due
                          FROM public.inventory_balance AS balance
                          JOIN public.inventory_lot AS lot
                            ON lot.tenant_id = balance.tenant_id AND lot.id = balance.lot_id
                         CROSS JOIN (
                            SELECT public.inventory_holds_overdue(
                                       p_tenant, p_warehouse, v_line.product_id, p_now) AS due
                         ) AS overdue
                         WHERE balance.tenant_id = p_tenant
                           AND balance.product_id = v_line.product_id
                           AND balance.warehouse_id = p_warehouse
                           AND public.inventory_lot_available(lot.qc_status, lot.expires_on, p_today)
                           AND balance.on_hand > 0
                         ORDER BY balance.product_id, balance.location_id, balance.lot_id
                           FOR SHARE OF balance
                      ) AS shared;
                    RAISE EXCEPTION USING ERRCODE = 'SY002';  -- let go of the shared locks
                EXCEPTION WHEN SQLSTATE 'SY002' THEN
                    NULL;
                END;
                v_shared_known := true;
            END IF;
            IF v_shared_known AND NOT v_shared_overdue AND v_shared_free < v_line.quantity
               AND NOT (p_allow_partial AND v_shared_free > 0) THEN
                -- Sold out, as the writers in flight left it.
                IF NOT p_allow_partial THEN
                    PERFORM public.inventory_refuse_shortage(
                        v_line.product_id, p_warehouse, p_today, v_shared_rows > 0);
                END IF;
                v_takes := '[]'::jsonb;
                v_held := 0;
            ELSE
                -- Pass 2: stock to wait for. The operation is written first, so
                -- the rows are held for as few statements as possible.
                v_operation := public.inventory_operation_for(
                    p_tenant, v_operation, p_operation_kind, p_operation_fingerprint);
                FOR v_attempt IN 1..2 LOOP
                    SELECT coalesce(array_agg(ROW(
                               waiting.balance_id, waiting.lot_id, waiting.location_id, waiting.free,
                               waiting.lot_code, waiting.location_code, waiting.expires_on,
                               waiting.received_at)::public.inventory_candidate
                             ORDER BY waiting.expires_on NULLS LAST, waiting.received_at,
                                      waiting.balance_id), '{}')
                      INTO v_candidates
                      FROM (
                        SELECT balance.id AS balance_id, balance.lot_id, balance.location_id,
                               balance.on_hand - balance.reserved AS free,
                               lot.code AS lot_code, location.code AS location_code,
                               lot.expires_on, lot.received_at
                          FROM public.inventory_balance AS balance
                          JOIN public.inventory_lot AS lot
                            ON lot.tenant_id = balance.tenant_id AND lot.id = balance.lot_id
                          JOIN public.warehouse_location AS location
                            ON location.tenant_id = balance.tenant_id
                           AND location.id = balance.location_id
                         WHERE balance.tenant_id = p_tenant
                           AND balance.product_id = v_line.product_id
                           AND balance.warehouse_id = p_warehouse
                           AND public.inventory_lot_available(lot.qc_status, lot.expires_on, p_today)
                           AND balance.on_hand > 0
                         ORDER BY balance.product_id, balance.location_id, balance.lot_id
                           FOR UPDATE OF balance
                      ) AS waiting;
                    SELECT taken.takes, taken.held INTO v_takes, v_held
                      FROM public.inventory_take(v_candidates, v_line.quantity) AS taken;
                    EXIT WHEN v_held >= v_line.quantity OR v_attempt = 2;
                    -- Still short: expire and release the overdue holds of the
                    -- product in the warehouse, then count again (the rows are
                    -- ours now: reading them again costs no wait).
                    WITH due AS MATERIALIZED (
                        SELECT candidate.id
                          FROM public.inventory_reservation AS candidate
                         WHERE candidate.tenant_id = p_tenant
                           AND candidate.warehouse_id = p_warehouse
                           AND candidate.status = 'OPEN'
                           AND candidate.expires_at IS NOT NULL
                           AND candidate.expires_at <= p_now
                           AND EXISTS (
                                 SELECT 1 FROM public.inventory_reservationline AS line
                                  WHERE line.tenant_id = candidate.tenant_id
                                    AND line.reservation_id = candidate.id
                                    AND line.product_id = v_line.product_id
                                    AND line.allocated > 0)
                         ORDER BY candidate.id
                           FOR UPDATE SKIP LOCKED
                    ), expired AS (
                        UPDATE public.inventory_reservation AS reservation
                           SET status = 'EXPIRED', expired_at = p_now
                          FROM due
                         WHERE reservation.id = due.id
                           AND reservation.status = 'OPEN'
                        RETURNING reservation.id
                    )
                    SELECT array_agg(expired.id) INTO v_expired FROM expired;
                    EXIT WHEN v_expired IS NULL;
                    PERFORM public.inventory_release_reservations(
                        p_tenant, v_expired, v_operation, p_user, p_token, p_now,
                        'Reservation expired');
                END LOOP;
                IF NOT p_allow_partial AND v_held < v_line.quantity THEN
                    PERFORM public.inventory_refuse_shortage(
                        v_line.product_id, p_warehouse, p_today, false);
                END IF;
            END IF;
        END IF;
        v_anything := v_anything OR v_held > 0;
        v_plan := v_plan || jsonb_build_object(
            'product_id', v_line.product_id, 'quantity', v_line.quantity::text,
            'allocated', v_held::text, 'takes', v_takes);
    END LOOP;

    IF NOT v_anything THEN
        PERFORM public.inventory_refuse_shortage(
            (p_lines -> 0 ->> 'product_id')::bigint, p_warehouse, p_today, false);
    END IF;
    v_operation := public.inventory_operation_for(
        p_tenant, v_operation, p_operation_kind, p_operation_fingerprint);

    INSERT INTO public.inventory_reservation
        (tenant_id, warehouse_id, reference, status, allow_partial, expires_at, created_at,
         operation_id)
    VALUES (p_tenant, p_warehouse, p_reference, 'OPEN', p_allow_partial, p_expires_at, p_now,
            v_operation)
    RETURNING id INTO v_reservation;

    FOR v_plan_line IN SELECT value FROM jsonb_array_elements(v_plan) LOOP
        INSERT INTO public.inventory_reservationline
            (tenant_id, reservation_id, product_id, quantity, allocated)
        VALUES (p_tenant, v_reservation, (v_plan_line ->> 'product_id')::bigint,
                (v_plan_line ->> 'quantity')::numeric, (v_plan_line ->> 'allocated')::numeric)
        RETURNING id INTO v_line_id;
        v_allocations := '[]'::jsonb;
        FOR v_take IN SELECT value FROM jsonb_array_elements(v_plan_line -> 'takes') LOOP
            INSERT INTO public.inventory_allocation
                (tenant_id, reservation_id, line_id, lot_id, location_id, quantity)
            VALUES (p_tenant, v_reservation, v_line_id, (v_take ->> 'lot_id')::bigint,
                    (v_take ->> 'location_id')::bigint, (v_take ->> 'quantity')::numeric)
            RETURNING id INTO v_allocation_id;
            v_holds := v_holds || ROW(
                'RESERVE', (v_take ->> 'lot_id')::bigint, (v_take ->> 'location_id')::bigint,
                (v_plan_line ->> 'product_id')::bigint, p_warehouse,
                (v_take ->> 'quantity')::numeric, p_reference)::public.inventory_posting;
            v_allocations := v_allocations || (v_take || jsonb_build_object('id', v_allocation_id));
        END LOOP;
        v_result_lines := v_result_lines || jsonb_build_object(
            'id', v_line_id,
            'product_id', (v_plan_line ->> 'product_id')::bigint,
            'quantity', v_plan_line ->> 'quantity',
            'allocated', v_plan_line ->> 'allocated',
            'allocations', v_allocations);
    END LOOP;
    PERFORM public.inventory_post(p_tenant, v_holds, v_operation, p_user, p_token, p_now);

    RETURN jsonb_build_object(
        'id', v_reservation,
        'operation_id', v_operation,
        'created_at', p_now,
        'expires_at', p_expires_at,
        'lines', v_result_lines);
END;
$$;

-- The live token with this secret hash, and its tenant, in one statement:
-- the ``token_lookup`` policy shows the token row whose hash the transaction
-- names in ``app.api_token_hash``; the setting is cleared before returning.
CREATE FUNCTION public.inventory_api_token(p_secret_hash text)
RETURNS TABLE (
    id bigint, tenant_id bigint, name text, prefix text, scopes jsonb,
    created_at timestamptz, last_used_at timestamptz,
    tenant_slug text, tenant_name text, tenant_created_at timestamptz,
    tenant_refuse_expired_receipts boolean
)
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM set_config('app.api_token_hash', p_secret_hash, true);
    RETURN QUERY
        SELECT token.id, token.tenant_id, token.name::text, token.prefix::text, token.scopes,
               token.created_at, token.last_used_at, tenant.slug::text, tenant.name::text,
               tenant.created_at, tenant.refuse_expired_receipts
          FROM public.inventory_apitoken AS token
          JOIN public.warehouse_tenant AS tenant ON tenant.id = token.tenant_id
         WHERE token.secret_hash = p_secret_hash
           AND token.revoked_at IS NULL
           AND tenant.is_active;
    PERFORM set_config('app.api_token_hash', '', true);
END;
$$;

-- Claim an idempotency key for an operation (``inventory.core.idempotency``):
-- ``{"operation_id"}`` of the new operation row, or the stored answer to replay
-- (``{"status", "body", "replayed": true, "operation_id"}``). A concurrent
-- request with the same key waits on the insert until the first one ends. A
-- key held by an operation past the retention is cleared and claimed anew.
CREATE FUNCTION public.inventory_claim_key(
    p_tenant bigint, p_key text, p_kind text, p_fingerprint text, p_retention interval
) RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    v_now timestamptz := now();
    v_operation bigint;
    v_stored record;
BEGIN
    -- Insert, find the key expired, clear it, insert again: two rounds suffice;
    -- a third covers a key the cleanup job cleared in between.
    FOR v_attempt IN 1..3 LOOP
        INSERT INTO public.inventory_operation (tenant_id, key, kind, fingerprint, created_at)
        VALUES (p_tenant, p_key, p_kind, p_fingerprint, v_now)
        ON CONFLICT (tenant_id, key) DO NOTHING
        RETURNING id INTO v_operation;
        IF v_operation IS NOT NULL THEN
            RETURN jsonb_build_object('operation_id', v_operation);
        END IF;
        UPDATE public.inventory_operation
           SET key = NULL, response_status = NULL, response_body = NULL
         WHERE tenant_id = p_tenant AND key = p_key AND created_at < v_now - p_retention;
        CONTINUE WHEN FOUND;
        SELECT id, kind, fingerprint, response_status, response_body INTO v_stored
          FROM public.inventory_operation WHERE tenant_id = p_tenant AND key = p_key;
        IF FOUND THEN
            IF v_stored.kind <> p_kind OR v_stored.fingerprint <> p_fingerprint THEN
                PERFORM public.inventory_refuse(
                    'IDEMPOTENCY_KEY_REUSED',
                    'This idempotency key was already used for a different request.');
            END IF;
            RETURN jsonb_build_object(
                'status', v_stored.response_status, 'body', v_stored.response_body,
                'replayed', true, 'operation_id', v_stored.id);
        END IF;
    END LOOP;
    PERFORM public.inventory_refuse('CONTENTION', '');
END;
$$;

-- What every API write function does first: act for the token's tenant with
-- the write policy's ``lock_timeout`` (transaction-local), and claim the
-- ``Idempotency-Key`` when there is one. ``{}`` without a key (the operation is
-- generated when something is written), else what ``inventory_claim_key`` says.
CREATE FUNCTION public.inventory_api_begin(
    p_tenant bigint, p_lock_timeout text, p_key text, p_kind text, p_fingerprint text,
    p_retention interval
) RETURNS jsonb
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM set_config('app.tenant_id', p_tenant::text, true),
            set_config('app.user_id', '', true),
            set_config('lock_timeout', p_lock_timeout, true);
    IF p_key IS NULL THEN
        RETURN '{}'::jsonb;
    END IF;
    RETURN public.inventory_claim_key(p_tenant, p_key, p_kind, p_fingerprint, p_retention);
END;
$$;

-- What every API write function does last: store the answer on the
-- operation for a replay of its key, and return it.
CREATE FUNCTION public.inventory_api_answer(p_operation bigint, p_status integer, p_body jsonb)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
BEGIN
    UPDATE public.inventory_operation SET response_status = p_status, response_body = p_body
     WHERE id = p_operation;
    RETURN jsonb_build_object(
        'status', p_status, 'body', p_body, 'replayed', false, 'operation_id', p_operation);
END;
$$;

-- Refuse a reservation that is missing or no longer open (issue, cancel).
CREATE FUNCTION public.inventory_refuse_unless_open(p_reservation bigint, p_status text)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    IF p_status IS NULL THEN
        PERFORM public.inventory_refuse(
            'RESERVATION_NOT_FOUND', format('No reservation %s.', p_reservation));
    ELSIF p_status = 'ISSUED' THEN
        PERFORM public.inventory_refuse(
            'RESERVATION_ALREADY_ISSUED',
            format('Reservation %s has already been issued.', p_reservation));
    ELSIF p_status = 'CANCELLED' THEN
        PERFORM public.inventory_refuse(
            'RESERVATION_CANCELLED', format('Reservation %s has been cancelled.', p_reservation));
    ELSIF p_status = 'EXPIRED' THEN
        PERFORM public.inventory_refuse(
            'RESERVATION_EXPIRED', format('Reservation %s has expired.', p_reservation));
    END IF;
END;
$$;

-- Ship what an open reservation holds: SHIP and RELEASE entries per allocation
-- (``inventory.reservations.lifecycle.issue_reservation``). The reservation row
-- is locked first, then its balances (one conditional update).
CREATE FUNCTION public.inventory_issue(
    p_tenant bigint,
    p_reservation bigint,
    p_operation bigint,
    p_operation_kind text,
    p_operation_fingerprint text,
    p_user integer,
    p_token bigint,
    p_now timestamptz,
    p_today date
) RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    v_reservation record;
    v_operation bigint := p_operation;
    v_unavailable text;
    v_reason text;
    v_postings public.inventory_posting[];
    v_issued jsonb;
BEGIN
    SELECT id, status, expires_at, reference INTO v_reservation
      FROM public.inventory_reservation WHERE id = p_reservation FOR UPDATE;
    PERFORM public.inventory_refuse_unless_open(p_reservation, v_reservation.status);
    IF v_reservation.expires_at <= p_now THEN
        PERFORM public.inventory_refuse(
            'RESERVATION_EXPIRED', format('Reservation %s has expired.', p_reservation));
    END IF;
    v_operation := public.inventory_operation_for(
        p_tenant, v_operation, p_operation_kind, p_operation_fingerprint);
    SELECT lot.code INTO v_unavailable
      FROM public.inventory_allocation AS allocation
      JOIN public.inventory_lot AS lot
        ON lot.tenant_id = allocation.tenant_id AND lot.id = allocation.lot_id
     WHERE allocation.reservation_id = p_reservation
       AND NOT public.inventory_lot_available(lot.qc_status, lot.expires_on, p_today)
     ORDER BY allocation.line_id, allocation.id
     LIMIT 1;
    IF FOUND THEN
        PERFORM public.inventory_refuse(
            'LOT_NOT_APPROVED',
            format('Lot %s is no longer approved or has expired.', v_unavailable));
    END IF;
    v_reason := coalesce(nullif(v_reservation.reference, ''), 'Reservation ' || p_reservation);
    SELECT array_agg(ROW(kind.kind, allocation.lot_id, allocation.location_id, line.product_id,
                         location.warehouse_id, -allocation.quantity, v_reason
                     )::public.inventory_posting
                     ORDER BY allocation.line_id, allocation.id, kind.position),
           jsonb_agg(jsonb_build_object(
                         'line_id', allocation.line_id, 'sku', product.sku,
                         'lot_id', allocation.lot_id, 'lot_code', lot.code,
                         'location_id', allocation.location_id, 'location_code', location.code,
                         'quantity', allocation.quantity::text)
                     ORDER BY allocation.line_id, allocation.id)
                 FILTER (WHERE kind.position = 1)
      INTO v_postings, v_issued
      FROM public.inventory_allocation AS allocation
      JOIN public.inventory_reservationline AS line
        ON line.tenant_id = allocation.tenant_id AND line.id = allocation.line_id
      JOIN public.inventory_product AS product
        ON product.tenant_id = line.tenant_id AND product.id = line.product_id
      JOIN public.inventory_lot AS lot
        ON lot.tenant_id = allocation.tenant_id AND lot.id = allocation.lot_id
      JOIN public.warehouse_location AS location
        ON location.tenant_id = allocation.tenant_id AND location.id = allocation.location_id
     CROSS JOIN (VALUES (1, 'SHIP'), (2, 'RELEASE')) AS kind(position, kind)
     WHERE allocation.reservation_id = p_reservation;
    PERFORM public.inventory_post(p_tenant, v_postings, v_operation, p_user, p_token, p_now);
    UPDATE public.inventory_reservation SET status = 'ISSUED', issued_at = p_now
     WHERE id = p_reservation AND status = 'OPEN';
    RETURN jsonb_build_object(
        'reservation_id', p_reservation, 'status', 'ISSUED', 'operation_id', v_operation,
        'lots_issued', coalesce(v_issued, '[]'::jsonb));
END;
$$;

-- ``POST /api/v1/reservations/{id}/issue`` whole: tenant context and lock
-- timeout, the key, ``inventory_issue``, the answer stored for a replay.
CREATE FUNCTION public.inventory_api_issue(
    p_tenant bigint,
    p_token bigint,
    p_lock_timeout text,
    p_key text,
    p_kind text,
    p_fingerprint text,
    p_retention interval,
    p_reservation bigint,
    p_time_zone text
) RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    v_now timestamptz := now();
    v_operation bigint;
    v_claim jsonb;
    v_result jsonb;
    v_body jsonb;
BEGIN
    v_claim := public.inventory_api_begin(
        p_tenant, p_lock_timeout, p_key, p_kind, p_fingerprint, p_retention);
    IF v_claim ? 'replayed' THEN
        RETURN v_claim;
    END IF;
    v_operation := (v_claim ->> 'operation_id')::bigint;
    v_result := public.inventory_issue(
        p_tenant, p_reservation, v_operation, p_kind, p_fingerprint, NULL, p_token, v_now,
        (v_now AT TIME ZONE p_time_zone)::date);
    v_body := jsonb_build_object(
        'reservation_id', p_reservation,
        'status', 'ISSUED',
        'lots_issued', (
            SELECT coalesce(jsonb_agg(jsonb_build_object(
                       'sku', issued ->> 'sku', 'lot_code', issued ->> 'lot_code',
                       'location', issued ->> 'location_code',
                       'quantity', issued ->> 'quantity') ORDER BY issued.position), '[]')
              FROM jsonb_array_elements(v_result -> 'lots_issued')
                   WITH ORDINALITY AS issued(issued, position)));
    RETURN public.inventory_api_answer((v_result ->> 'operation_id')::bigint, 200, v_body);
END;
$$;

-- A reservation as ``ReservationOut`` answers it: what the API's reservation,
-- cancel and read answers hold, built from the rows.
CREATE FUNCTION public.inventory_reservation_json(p_reservation bigint, p_now timestamptz)
RETURNS jsonb
LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT jsonb_build_object(
               'id', reservation.id,
               'status', CASE WHEN reservation.status = 'OPEN'
                               AND reservation.expires_at <= p_now
                              THEN 'EXPIRED' ELSE reservation.status END,
               'warehouse', warehouse.code,
               'reference', reservation.reference,
               'allow_partial', reservation.allow_partial,
               'complete', coalesce(lines.complete, true),
               'expires_at', public.inventory_json_time(reservation.expires_at),
               'created_at', public.inventory_json_time(reservation.created_at),
               'lines', coalesce(lines.lines, '[]'::jsonb))
      FROM public.inventory_reservation AS reservation
      JOIN public.warehouse_warehouse AS warehouse
        ON warehouse.tenant_id = reservation.tenant_id AND warehouse.id = reservation.warehouse_id
      LEFT JOIN LATERAL (
            SELECT bool_and(line.allocated = line.quantity) AS complete,
                   jsonb_agg(jsonb_build_object(
                       'sku', product.sku,
                       'quantity', line.quantity::text,
                       'allocated', line.allocated::text,
                       'allocations', (
                           SELECT coalesce(jsonb_agg(jsonb_build_object(
                                      'lot_code', lot.code,
                                      'location', location.code,
                                      'quantity', allocation.quantity::text)
                                      ORDER BY allocation.id), '[]'::jsonb)
                             FROM public.inventory_allocation AS allocation
                             JOIN public.inventory_lot AS lot
                               ON lot.tenant_id = allocation.tenant_id
                              AND lot.id = allocation.lot_id
                             JOIN public.warehouse_location AS location
                               ON location.tenant_id = allocation.tenant_id
                              AND location.id = allocation.location_id
                            WHERE allocation.tenant_id = line.tenant_id
                              AND allocation.line_id = line.id))
                       ORDER BY line.product_id) AS lines
              FROM public.inventory_reservationline AS line
              JOIN public.inventory_product AS product
                ON product.tenant_id = line.tenant_id AND product.id = line.product_id
             WHERE line.tenant_id = reservation.tenant_id
               AND line.reservation_id = reservation.id
      ) AS lines ON true
     WHERE reservation.id = p_reservation;
END;

-- Give up an open reservation: RELEASE entries for everything it holds
-- (``inventory.reservations.lifecycle.cancel_reservation``). Also when past its
-- expiry but not yet swept: it is released once either way.
CREATE FUNCTION public.inventory_cancel(
    p_tenant bigint,
    p_reservation bigint,
    p_operation bigint,
    p_operation_kind text,
    p_operation_fingerprint text,
    p_user integer,
    p_token bigint,
    p_now timestamptz
) RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    v_status text;
    v_operation bigint := p_operation;
BEGIN
    SELECT status INTO v_status
      FROM public.inventory_reservation WHERE id = p_reservation FOR UPDATE;
    PERFORM public.inventory_refuse_unless_open(p_reservation, v_status);
    v_operation := public.inventory_operation_for(
        p_tenant, v_operation, p_operation_kind, p_operation_fingerprint);
    UPDATE public.inventory_reservation SET status = 'CANCELLED', cancelled_at = p_now
     WHERE id = p_reservation AND status = 'OPEN';
    PERFORM public.inventory_release_reservations(
        p_tenant, ARRAY[p_reservation], v_operation, p_user, p_token, p_now,
        'Reservation cancelled');
    RETURN jsonb_build_object('reservation_id', p_reservation, 'operation_id', v_operation);
END;
$$;

-- ``POST /api/v1/reservations/{id}/cancel`` whole, as ``inventory_api_issue``.
CREATE FUNCTION public.inventory_api_cancel(
    p_tenant bigint,
    p_token bigint,
    p_lock_timeout text,
    p_key text,
    p_kind text,
    p_fingerprint text,
    p_retention interval,
    p_reservation bigint
) RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    v_now timestamptz := now();
    v_operation bigint;
    v_claim jsonb;
    v_result jsonb;
    v_body jsonb;
BEGIN
    v_claim := public.inventory_api_begin(
        p_tenant, p_lock_timeout, p_key, p_kind, p_fingerprint, p_retention);
    IF v_claim ? 'replayed' THEN
        RETURN v_claim;
    END IF;
    v_operation := (v_claim ->> 'operation_id')::bigint;
    v_result := public.inventory_cancel(
        p_tenant, p_reservation, v_operation, p_kind, p_fingerprint, NULL, p_token, v_now);
    v_body := public.inventory_reservation_json(p_reservation, v_now);
    RETURN public.inventory_api_answer((v_result ->> 'operation_id')::bigint, 200, v_body);
END;
$$;

CREATE FUNCTION public.inventory_api_reserve(
    p_tenant bigint,
    p_token bigint,
    p_lock_timeout text,
    p_key text,
    p_kind text,
    p_fingerprint text,
    p_retention interval,
    p_request jsonb,
    p_places jsonb,
    p_time_zone text
) RETURNS jsonb
LANGUAGE plpgsql
AS $$
-- ``p_request``: the validated body, ``{"warehouse", "warehouse_key", "lines":
-- [{"sku_quoted", "key", "quantity", "refusal"}], "reference", "allow_partial",
-- "ttl_seconds"}`` (``refusal``: why the quantity is refused whatever the unit)
-- (keys as ``inventory.catalog.selectors.code_key`` makes them, null when nothing can
-- match). Returns ``{"status", "body", "replayed"}``.
DECLARE
    v_now timestamptz := now();
    v_operation bigint;
    v_claim jsonb;
    v_warehouse record;
    v_lines jsonb := '[]'::jsonb;
    v_keys text[];
    v_ids bigint[];
    v_skus text[];
    v_uoms text[];
    v_quoted text[];
    v_quantities numeric[];
    v_refusals text[];
    v_position integer;
    v_places integer;
    v_ttl integer := (p_request ->> 'ttl_seconds')::integer;
    v_result jsonb;
    v_body jsonb;
BEGIN
    v_claim := public.inventory_api_begin(
        p_tenant, p_lock_timeout, p_key, p_kind, p_fingerprint, p_retention);
    IF v_claim ? 'replayed' THEN
        RETURN v_claim;
    END IF;
    v_operation := (v_claim ->> 'operation_id')::bigint;

    SELECT id, code INTO v_warehouse
      FROM public.warehouse_warehouse WHERE code_key = p_request ->> 'warehouse_key';
    IF NOT FOUND THEN
        PERFORM public.inventory_refuse(
            'WAREHOUSE_NOT_FOUND',
            format('No warehouse with code %s.', p_request ->> 'warehouse_quoted'));
    END IF;

    -- Every SKU looked up at once, by its stored key (an index condition under RLS).
    SELECT array_agg(item.line ->> 'key' ORDER BY item.position),
           array_agg(item.line ->> 'sku_quoted' ORDER BY item.position),
           array_agg((item.line ->> 'quantity')::numeric ORDER BY item.position),
           array_agg(item.line ->> 'refusal' ORDER BY item.position)
      INTO v_keys, v_quoted, v_quantities, v_refusals
      FROM jsonb_array_elements(p_request -> 'lines') WITH ORDINALITY AS item(line, position);
    SELECT array_agg(product.id ORDER BY wanted.position),
           array_agg(product.sku ORDER BY wanted.position),
           array_agg(product.uom ORDER BY wanted.position)
      INTO v_ids, v_skus, v_uoms
      FROM unnest(v_keys) WITH ORDINALITY AS wanted(key, position)
      LEFT JOIN (
            SELECT candidate.id, candidate.sku::text AS sku, candidate.uom::text AS uom,
                   candidate.sku_key
              FROM public.inventory_product AS candidate
             WHERE candidate.sku_key = ANY(v_keys)
      ) AS product ON product.sku_key = wanted.key;
    -- In the order given: the first unknown SKU is the answer, then the first
    -- repeated product or quantity its unit cannot hold.
    FOR v_position IN 1 .. cardinality(v_ids) LOOP
        IF v_ids[v_position] IS NULL THEN
            PERFORM public.inventory_refuse(
                'PRODUCT_NOT_FOUND', format('No product with SKU %s.', v_quoted[v_position]));
        END IF;
    END LOOP;
    FOR v_position IN 1 .. cardinality(v_ids) LOOP
        IF v_ids[v_position] = ANY(v_ids[1 : v_position - 1]) THEN
            PERFORM public.inventory_refuse(
                'VALIDATION_ERROR',
                format('Product %s appears on two lines.', v_skus[v_position]));
        END IF;
        IF v_refusals[v_position] IS NOT NULL THEN
            PERFORM public.inventory_refuse('INVALID_QUANTITY', v_refusals[v_position]);
        END IF;
        v_places := least(coalesce((p_places ->> v_uoms[v_position])::integer, 3), 3);
        IF v_quantities[v_position] <> trunc(v_quantities[v_position], v_places) THEN
            PERFORM public.inventory_refuse(
                'INVALID_QUANTITY',
                CASE WHEN v_places > 0
                     THEN format('The quantity may have at most %s decimal places in this unit.',
                                 v_places)
                     ELSE 'The quantity must be a whole number in this unit.' END);
        END IF;
        v_lines := v_lines || jsonb_build_object(
            'product_id', v_ids[v_position], 'sku', v_skus[v_position],
            'quantity', v_quantities[v_position]::text);
    END LOOP;
    SELECT jsonb_agg(line ORDER BY (line ->> 'product_id')::bigint) INTO v_lines
      FROM jsonb_array_elements(v_lines) AS line;

    v_result := public.inventory_allocate(
        p_tenant, v_warehouse.id, v_lines, p_request ->> 'reference',
        (p_request ->> 'allow_partial')::boolean,
        CASE WHEN v_ttl IS NULL THEN NULL ELSE v_now + make_interval(secs => v_ttl) END,
        v_now, (v_now AT TIME ZONE p_time_zone)::date,
        v_operation, p_kind, p_fingerprint, NULL, p_token);

    v_body := public.inventory_reservation_json((v_result ->> 'id')::bigint, v_now);

    RETURN public.inventory_api_answer((v_result ->> 'operation_id')::bigint, 201, v_body);
END;
$$;
"""

FUNCTIONS = (
    "public.inventory_api_cancel(bigint, bigint, text, text, text, text, interval, bigint)",
    "public.inventory_cancel(bigint, bigint, bigint, text, text, integer, bigint, timestamptz)",
    "public.inventory_reservation_json(bigint, timestamptz)",
    "public.inventory_api_issue(bigint, bigint, text, text, text, text, interval, bigint, text)",
    "public.inventory_issue(bigint, bigint, bigint, text, text, integer, bigint, timestamptz, date)",
    "public.inventory_claim_key(bigint, text, text, text, interval)",
    "public.inventory_api_begin(bigint, text, text, text, text, interval)",
    "public.inventory_api_answer(bigint, integer, jsonb)",
    "public.inventory_refuse_unless_open(bigint, text)",
    "public.inventory_api_token(text)",
    "public.inventory_api_reserve(bigint, bigint, text, text, text, text, interval, jsonb, jsonb, text)",
    "public.inventory_allocate(bigint, bigint, jsonb, text, boolean, timestamptz, timestamptz, date,"
    " bigint, text, text, integer, bigint)",
    "public.inventory_refuse_shortage(bigint, bigint, date, boolean)",
    "public.inventory_operation_for(bigint, bigint, text, text)",
    "public.inventory_take(public.inventory_candidate[], numeric)",
    "public.inventory_holds_overdue(bigint, bigint, bigint, timestamptz)",
    "public.inventory_release_reservations(bigint, bigint[], bigint, integer, bigint, timestamptz,"
    " text)",
    "public.inventory_post(bigint, public.inventory_posting[], bigint, integer, bigint, timestamptz)",
    "public.inventory_change_balances(bigint, public.inventory_posting[])",
    "public.inventory_json_time(timestamptz)",
    "public.inventory_refuse(text, text)",
    "public.inventory_lot_available(text, date, date)",
)

GRANTS = [
    *(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC" for signature in FUNCTIONS),
    *(f"GRANT EXECUTE ON FUNCTION {signature} TO {APP}" for signature in FUNCTIONS),
]

DROP = [
    *(f"DROP FUNCTION {signature}" for signature in FUNCTIONS),
    "DROP TYPE public.inventory_posting",
    "DROP TYPE public.inventory_candidate",
]


class Migration(migrations.Migration):
    dependencies = [("inventory", "0016_bounded_search_ranking")]

    operations = [migrations.RunSQL(sql=[CREATE, *GRANTS], reverse_sql=DROP)]
