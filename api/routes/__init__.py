"""The API's routes, one module per resource; `ROUTERS` in the order the application includes them."""

from fastapi import APIRouter

from api.routes import (
    admin,
    analytics,
    auth,
    care,
    closures,
    disclosures,
    events,
    fhir,
    health,
    jobs,
    persons,
    portal,
    registration,
    review,
)

ROUTERS: tuple[APIRouter, ...] = tuple(module.router for module in (
    health, auth, registration, persons, review, events, admin, fhir, jobs, analytics, portal, disclosures, care,
    closures))

__all__ = ["ROUTERS"]
