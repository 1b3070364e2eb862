"""Typed dependencies of the API routes: the settings and the Neo4j driver of the app's lifespan."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from neo4j import Driver

from api.settings import Settings


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_driver(request: Request) -> Driver:
    driver: Driver = request.app.state.driver
    return driver


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
DriverDep = Annotated[Driver, Depends(get_driver)]
