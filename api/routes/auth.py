"""Signing in: OAuth2 password flow giving a JWT bearer token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from api.deps import CurrentUser, DriverDep, SettingsDep
from api.messages import Refusal
from api.security import AuthError, SignInLimiter, User, authenticate, issue_token

router = APIRouter(prefix="/auth", tags=["auth"])


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


@router.post("/token", operation_id="create_token", response_model=Token,
             responses={401: {"description": "Wrong username or password"},
                        429: {"description": "Too many failed sign-ins; see Retry-After"}})
def create_token(form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request, driver: DriverDep,
                 settings: SettingsDep) -> Token:
    """Exchange a username and password for a bearer token. After 5 failures for one account (or 20
    from one client) within 5 minutes, sign-ins are refused with 429 and Retry-After."""
    limiter: SignInLimiter = request.app.state.sign_ins
    client = request.client.host if request.client else "?"
    wait = limiter.wait_seconds(form.username, client)
    if wait:
        raise Refusal(status.HTTP_429_TOO_MANY_REQUESTS, "too many failed sign-ins: try again later",
                      headers={"Retry-After": str(wait)})
    try:
        user = authenticate(driver, form.username, form.password, settings.neo4j_database)
    except AuthError as exc:
        limiter.failed(form.username, client)
        raise Refusal(status.HTTP_401_UNAUTHORIZED, "wrong username or password",
                      headers={"WWW-Authenticate": "Bearer"}) from exc
    limiter.succeeded(form.username)
    return Token(access_token=issue_token(user, settings))


@router.get("/me", operation_id="read_me", response_model=User)
def read_me(user: CurrentUser) -> User:
    """The signed-in account."""
    return user
