"""create_app(settings): the FastAPI application with its API, pages and error handling."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from atmpchain import __version__
from atmpchain.audit.checkpointing import CheckpointTimer
from atmpchain.clock import Clock, SystemClock
from atmpchain.config import Settings
from atmpchain.db import Database
from atmpchain.uow import UnitOfWork
from atmpchain.web import errors

# `atmpchain serve` reaches the web only through this module (the layers contract, ADR 0015).
from atmpchain.web import serving as serving
from atmpchain.web.api import accounts as accounts_api
from atmpchain.web.api import audit as audit_api
from atmpchain.web.api import cleanrooms as cleanrooms_api
from atmpchain.web.api import coldchain as coldchain_api
from atmpchain.web.api import custody as custody_api
from atmpchain.web.api import environmental_monitoring as em_api
from atmpchain.web.api import equipment as equipment_api
from atmpchain.web.api import facility as facility_api
from atmpchain.web.api import gateway as gateway_api
from atmpchain.web.api import hospital as hospital_api
from atmpchain.web.api import hospital_timeline as hospital_timeline_api
from atmpchain.web.api import identity as identity_api
from atmpchain.web.api import manufacturing as manufacturing_api
from atmpchain.web.api import materials as materials_api
from atmpchain.web.api import qc as qc_api
from atmpchain.web.api import quality as quality_api
from atmpchain.web.api import refusals as refusals_api
from atmpchain.web.api import release as release_api
from atmpchain.web.api import scheduling as scheduling_api
from atmpchain.web.api import scheduling_entry as scheduling_entry_api
from atmpchain.web.api import scheduling_replan as scheduling_replan_api
from atmpchain.web.api import shipper_logs as shipper_logs_api
from atmpchain.web.api import telemetry as telemetry_api
from atmpchain.web.api import translation as translation_api
from atmpchain.web.api import translation_doe as translation_doe_api
from atmpchain.web.deps import AppState, csrf_protect
from atmpchain.web.gate import BodyLimits, LimitBodySize, RefuseAnonymousWrites
from atmpchain.web.headers import SecurityHeaders
from atmpchain.web.pages import accounts as accounts_pages
from atmpchain.web.pages import audit as audit_pages
from atmpchain.web.pages import auth as auth_pages
from atmpchain.web.pages import cleanrooms as cleanrooms_pages
from atmpchain.web.pages import coldchain as coldchain_pages
from atmpchain.web.pages import custody as custody_pages
from atmpchain.web.pages import dashboard as dashboard_pages
from atmpchain.web.pages import environmental_monitoring as em_pages
from atmpchain.web.pages import equipment as equipment_pages
from atmpchain.web.pages import facility as facility_pages
from atmpchain.web.pages import gateway as gateway_pages
from atmpchain.web.pages import gateway_public as gateway_public_pages
from atmpchain.web.pages import hospital as hospital_pages
from atmpchain.web.pages import hospital_bedside as hospital_bedside_pages
from atmpchain.web.pages import hospital_catalogue as hospital_catalogue_pages
from atmpchain.web.pages import hospital_orders as hospital_orders_pages
from atmpchain.web.pages import hospital_record as hospital_record_pages
from atmpchain.web.pages import hospital_steps as hospital_steps_pages
from atmpchain.web.pages import hospital_timeline as hospital_timeline_pages
from atmpchain.web.pages import hospital_trace as hospital_trace_pages
from atmpchain.web.pages import identity as identity_pages
from atmpchain.web.pages import manufacturing as manufacturing_pages
from atmpchain.web.pages import materials as materials_pages
from atmpchain.web.pages import qc as qc_pages
from atmpchain.web.pages import quality as quality_pages
from atmpchain.web.pages import refusals as refusals_pages
from atmpchain.web.pages import release as release_pages
from atmpchain.web.pages import scheduling as scheduling_pages
from atmpchain.web.pages import scheduling_entry as scheduling_entry_pages
from atmpchain.web.pages import scheduling_replan as scheduling_replan_pages
from atmpchain.web.pages import translation as translation_pages
from atmpchain.web.pages import translation_assess as translation_assess_pages
from atmpchain.web.pages import translation_cost as translation_cost_pages
from atmpchain.web.pages import translation_doe as translation_doe_pages
from atmpchain.web.pages import translation_fmea as translation_fmea_pages
from atmpchain.web.route_index import index_routes

STATIC = Path(__file__).parent / "static"

#: Every router of the application; each is mounted behind the CSRF check.
ROUTERS = (
    accounts_api.router,
    audit_api.router,
    identity_api.router,
    custody_api.router,
    telemetry_api.router,
    coldchain_api.router,
    hospital_api.router,
    manufacturing_api.router,
    quality_api.router,
    shipper_logs_api.router,
    hospital_timeline_api.router,
    facility_api.router,
    refusals_api.router,
    materials_api.router,
    equipment_api.router,
    em_api.router,
    translation_api.router,
    qc_api.router,
    scheduling_api.router,
    scheduling_entry_api.router,
    scheduling_replan_api.router,
    auth_pages.router,
    dashboard_pages.router,
    accounts_pages.router,
    audit_pages.router,
    identity_pages.router,
    custody_pages.router,
    coldchain_pages.router,
    hospital_pages.router,
    hospital_steps_pages.router,
    hospital_orders_pages.router,
    hospital_bedside_pages.router,
    hospital_catalogue_pages.router,
    hospital_trace_pages.router,
    hospital_record_pages.router,
    manufacturing_pages.router,
    quality_pages.router,
    hospital_timeline_pages.router,
    facility_pages.router,
    refusals_pages.router,
    materials_pages.router,
    equipment_pages.router,
    release_api.router,
    release_pages.router,
    em_pages.router,
    translation_doe_api.router,
    translation_doe_pages.router,
    translation_cost_pages.router,
    translation_pages.router,
    translation_assess_pages.router,
    translation_fmea_pages.router,
    gateway_api.router,
    gateway_public_pages.router,
    gateway_pages.router,
    qc_pages.router,
    cleanrooms_api.router,
    cleanrooms_pages.router,
    scheduling_pages.router,
    scheduling_entry_pages.router,
    scheduling_replan_pages.router,
)


def create_app(
    settings: Settings, *, db: Database | None = None, clock: Clock | None = None
) -> FastAPI:
    """Build the application for `settings` (the database must already be initialised)."""
    database = db or Database(settings.database_url)
    app_clock = clock or SystemClock()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Signed audit checkpoints at least daily (ADR 0013); with an unreadable key the server
        # refuses to start rather than run unsigned unnoticed.
        timer = CheckpointTimer.start(UnitOfWork(database, app_clock, "system", settings))
        try:
            yield
        finally:
            if timer is not None:
                timer.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="atmpchain",
        version=__version__,
        summary="Chain of identity, custody and GMP records for ATMPs",
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.atmpchain = AppState(db=database, settings=settings, clock=app_clock)
    # Before a byte of a body is read: its size (outermost), then who sends it (gate.py). Added
    # before the headers below, so that their refusals carry those headers too.
    app.add_middleware(RefuseAnonymousWrites)
    app.add_middleware(LimitBodySize, limits=BodyLimits.from_settings(settings))

    # Outermost: the security headers go on every answer, refusals included (headers.py).
    app.add_middleware(SecurityHeaders)

    errors.install(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for router in ROUTERS:
        app.include_router(router, dependencies=[Depends(csrf_protect)])
    # Each router skips paths none of its routes starts like (route_index.py, ADR 0036).
    index_routes(app)

    def openapi() -> dict[str, Any]:
        # Every API operation declares the error bodies it may answer with (errors.ErrorOut).
        if app.openapi_schema is None:
            app.openapi_schema = errors.document_errors(FastAPI.openapi(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get("/healthz", tags=["health"], summary="Liveness and database reachability")
    def healthz() -> JSONResponse:
        try:
            with database.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # health must answer, whatever the failure
            return JSONResponse(
                {"status": "unavailable", "database": type(exc).__name__}, status_code=503
            )
        return JSONResponse({"status": "ok", "database": database.dialect, "version": __version__})

    return app
