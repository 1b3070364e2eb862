"""Typed dependencies of the API routes: settings, the Neo4j driver, the signed-in user."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request, status
from fastapi.security import OAuth2PasswordBearer
from neo4j import Driver

from api.audit import require_role
from api.messages import Refusal
from api.security import AuthError, Role, User, decode_token
from api.settings import Settings

oauth2 = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_driver(request: Request) -> Driver:
    driver: Driver = request.app.state.driver
    return driver


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
DriverDep = Annotated[Driver, Depends(get_driver)]


def get_current_user(request: Request, settings: SettingsDep,
                     token: Annotated[str | None, Depends(oauth2)]) -> User:
    if token is None:
        raise Refusal(status.HTTP_401_UNAUTHORIZED, "sign in: send a bearer token from POST /auth/token",
                      headers={"WWW-Authenticate": "Bearer"})
    try:
        user, issued_at = decode_token(token, settings)
        request.app.state.accounts.check(user, issued_at)
    except AuthError as exc:
        raise Refusal(status.HTTP_401_UNAUTHORIZED, "the token is invalid or expired: sign in again",
                      headers={"WWW-Authenticate": "Bearer"}) from exc
    request.state.user = user
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def require(*roles: Role, may_not: str) -> Any:
    """A dependency that lets only `roles` through: anyone else gets a 403 reading "the <their role>
    role may not <may_not>", written to the audit trail too.

        Reviewer = Annotated[User, require(Role.REVIEWER, may_not="review links")]
    """

    def check(request: Request, settings: SettingsDep, user: CurrentUser) -> User:
        require_role(request, settings, user, roles, may_not)
        return user

    return Depends(check)
