"""The people of the browser tests and how they log in."""
from __future__ import annotations

from urllib.parse import urlencode

USERS = {"olga": "officer", "oscar": "officer", "audrey": "auditor", "sam": "supervisor"}


def password_of(name: str) -> str:
    return f"pw-{name}-browser"


def login(page, user: str, password: str | None = None, next_path: str | None = None) -> None:
    """Log in through the console's own form, as a person would."""
    page.goto("/console/login" + (f"?{urlencode({'next': next_path})}" if next_path else ""))
    page.fill("#username", user)
    page.fill("#password", password if password is not None else password_of(user))
    page.click("#login-submit")
    page.wait_for_load_state()
