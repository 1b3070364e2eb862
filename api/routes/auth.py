"""Signing in: OAuth2 password flow giving a JWT bearer token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from api.deps import CurrentUser, DriverDep, SettingsDep
from api.security import AuthError, User, authenticate, issue_token

router = APIRouter(prefix="/auth", tags=["auth"])


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


@router.post("/token", operation_id="create_token", response_model=Token,
             responses={401: {"description": "Wrong username or password"}})
def create_token(form: Annotated[OAuth2PasswordRequestForm, Depends()], driver: DriverDep,
                 settings: SettingsDep) -> Token:
    """Exchange a username and password for a bearer token."""
    try:
        user = authenticate(driver, form.username, form.password, settings.neo4j_database)
    except AuthError as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong username or password",
                            headers={"WWW-Authenticate": "Bearer"}) from exc
    return Token(access_token=issue_token(user, settings))


@router.get("/me", operation_id="read_me", response_model=User)
def read_me(user: CurrentUser) -> User:
    """The signed-in account."""
    return user
