"""API v1, lots: QC decisions."""

from __future__ import annotations

from ninja import Router

from inventory.api import responses, schemas
from inventory.api.common import WRITE_ERRORS, actor_of, fingerprinted, valid_id
from inventory.api.core import write_endpoint
from inventory.core.errors import LotNotFound
from inventory.lots import services
from inventory.lots.selectors import get_lot
from inventory.models import Operation, QcStatus

# Tagged with stock, as it always was: the tag is how the API's documentation groups it.
router = Router(tags=["stock"])


def _decision_payload(lot_id: int, body) -> dict:
    return {"lot_id": valid_id(lot_id, LotNotFound), **fingerprinted(body)}


@router.post(
    "/lots/{lot_id}/qc",
    response={200: responses.LotOut, **WRITE_ERRORS},
    summary="Approve or reject a quarantined lot",
)
@write_endpoint("api.lot_qc", payload=_decision_payload)
def decide_lot(request, lot_id: int, body: schemas.QcDecisionIn, *, operation: Operation):
    decide = services.approve_lot if body.status == QcStatus.APPROVED else services.reject_lot
    lot = decide(
        tenant=request.tenant, lot=get_lot(lot_id), actor=actor_of(request), note=body.note
    )
    return 200, responses.LotOut.from_orm(lot)
