"""HoSo's outside: the `hoso` command line and the FastAPI application (the only FastAPI user)."""
