"""Who may log in: the password check behind both the API's tokens and the console's sessions."""
from __future__ import annotations

from patrol.users import User, UserError


def authenticate(svc, username: str, password: str) -> User | None:
    """The user when the password is right and the user active, else None. The store audits
    every attempt as user.login, failures included: repeated failures are what an auditor looks for."""
    try:
        return svc.store.authenticate(username, password)
    except UserError:  # e.g. a password longer than bcrypt takes: simply not this user's password
        return None
