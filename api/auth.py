"""Who is calling: signed bearer tokens, console sessions and CSRF tokens.

Tokens and session cookies are itsdangerous-signed payloads that carry only the user name and
a random session nonce; the role is re-read from the store on every request, so demoting or
removing a user takes effect at once instead of when their token expires.
"""
from __future__ import annotations

import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from patrol.users import ADMIN, AUDITOR, OFFICER, ROLES, SUPERVISOR

# Who may do what, as patrol.users.User says it: officers and supervisors review (admins manage
# users, auditors watch), only supervisors act on many alerts at once, auditors and admins read
# the audit trail. Everyone may read alerts, posts and searches.
READERS = frozenset(ROLES)
REVIEWERS = frozenset({OFFICER, SUPERVISOR})
SUPERVISORS = frozenset({SUPERVISOR})
AUDITORS = frozenset({AUDITOR, ADMIN})
# Who may put edited lexicons live (after `patrol lexicon backtest`): supervisors and admins.
LEXICON_KEEPERS = frozenset({SUPERVISOR, ADMIN})
# Who may change watch-lists (patrol/events/watchlists.py): administrators.
ADMINS = frozenset({ADMIN})

SESSION_COOKIE = "patrol_session"
LOGIN_CSRF_COOKIE = "patrol_login_csrf"

_SECRET_FILE = "api_secret_key"


def load_secret_key(configured: str | None, home: Path) -> str:
    """The configured key, else the one persisted under PATROL_HOME, else a new one written there
    (readable by the owner only) so that tokens survive a restart."""
    if configured:
        return configured
    path = Path(home) / _SECRET_FILE
    if path.exists():
        key = path.read_text(encoding="utf-8").strip()
        if key:
            return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: two workers starting together must not write different keys.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(key)
    return key


@dataclass(frozen=True)
class Credential:
    """What a verified token or session cookie says: who, and which login session."""

    username: str
    nonce: str


class TokenSigner:
    """Issues and verifies bearer tokens and console session cookies.

    Tokens and cookies use different salts, so a bearer token cannot be replayed as a cookie
    (which would bypass the CSRF check) nor a cookie as a token.
    """

    def __init__(self, secret_key: str, ttl_seconds: int):
        self._secret = secret_key.encode("utf-8")
        self.ttl_seconds = ttl_seconds
        self._tokens = URLSafeTimedSerializer(secret_key, salt="patrol.api.token")
        self._sessions = URLSafeTimedSerializer(secret_key, salt="patrol.console.session")

    def issue_token(self, username: str) -> str:
        return self._tokens.dumps({"u": username, "n": secrets.token_urlsafe(12)})

    def issue_session(self, username: str) -> str:
        return self._sessions.dumps({"u": username, "n": secrets.token_urlsafe(18)})

    def verify_token(self, token: str) -> Credential | None:
        return self._load(self._tokens, token)

    def verify_session(self, cookie: str) -> Credential | None:
        return self._load(self._sessions, cookie)

    def _load(self, serializer: URLSafeTimedSerializer, value: str) -> Credential | None:
        try:
            data = serializer.loads(value, max_age=self.ttl_seconds)
        except (SignatureExpired, BadSignature):
            return None
        except Exception:  # malformed base64/json from a hostile client: just not a credential
            return None
        if not isinstance(data, dict) or not isinstance(data.get("u"), str) or not isinstance(data.get("n"), str):
            return None
        return Credential(username=data["u"], nonce=data["n"])

    def csrf_for(self, nonce: str) -> str:
        """The CSRF token of a session: bound to its nonce, so it dies with the session and an
        attacker's page (which cannot read our cookie) cannot compute it."""
        return hmac.new(self._secret, f"csrf\x1f{nonce}".encode("utf-8"), "sha256").hexdigest()

    def csrf_matches(self, nonce: str, presented: str | None) -> bool:
        return bool(presented) and hmac.compare_digest(self.csrf_for(nonce), str(presented))


class FlashSigner:
    """One-shot console messages carried across a redirect in a signed cookie, so that a
    crafted link cannot make the console display text of an attacker's choosing."""

    COOKIE = "patrol_flash"

    def __init__(self, secret_key: str):
        self._s = URLSafeTimedSerializer(secret_key, salt="patrol.console.flash")

    def dumps(self, message: str, kind: str) -> str:
        return self._s.dumps({"m": message[:500], "k": kind})

    def loads(self, value: str | None) -> tuple[str, str] | None:
        if not value:
            return None
        try:
            data = self._s.loads(value, max_age=300)
        except Exception:
            return None
        if not isinstance(data, dict):
            return None
        return str(data.get("m", "")), str(data.get("k", "info"))
