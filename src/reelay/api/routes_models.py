"""``GET /v1/models``: the catalog, with each model's capabilities and whether this server serves it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from reelay.api.deps import AppContext, context
from reelay.api.present import dump
from reelay.api.schemas import ModelList, ModelObject
from reelay.catalog import ModelCard
from reelay.errors import ProviderNotConfigured

router = APIRouter(tags=["models"])
Ctx = Annotated[AppContext, Depends(context)]

_CREATED = 1_764_000_000  # a fixed timestamp: cards are data shipped with the release


def _model_object(card: ModelCard, ctx: AppContext) -> ModelObject:
    try:
        served_by: str | None = ctx.router.route(card.id).provider
    except ProviderNotConfigured:
        served_by = None
    return ModelObject(
        id=card.id,
        created=_CREATED,
        owned_by=card.owned_by,
        available=served_by is not None,
        served_by=served_by,
        capabilities=card.capabilities(),
        display_name=card.display_name,
        description=card.description,
        kind=card.kind,
        aliases=list(card.aliases),
    )


@router.get("/models", response_model=ModelList, summary="List the models in the catalog")
async def list_models(ctx: Ctx) -> JSONResponse:
    return JSONResponse(dump(ModelList(data=[_model_object(c, ctx) for c in ctx.catalog.cards()])))


@router.get("/models/{model_id:path}", response_model=ModelObject, summary="One model's card")
async def get_model(model_id: str, ctx: Ctx) -> JSONResponse:
    return JSONResponse(dump(_model_object(ctx.catalog.get(model_id), ctx)))
