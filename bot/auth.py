"""Who may call the agent and admin endpoints: bearer keys from the settings, compared in constant time.

Two roles: ``agent`` (suggested replies, handoff queue, saved replies) and ``admin`` (everything an agent
may, plus index rebuild, analytics and content gaps). Customers need no key.
"""

from __future__ import annotations

import hmac

from bot.settings import Settings

AGENT = "agent"
ADMIN = "admin"
_SETTING = {AGENT: "PASOKH_AGENT_KEY", ADMIN: "PASOKH_ADMIN_KEY"}


class AuthError(Exception):
    """A refused request: ``status`` 401 (who are you?) or 403 (not allowed), with a JSON ``code``."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        """Describe the refusal."""
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail


def _same(given: str, key: str | None) -> bool:
    # compare_digest takes time independent of where the strings differ; bytes, so any text works.
    return key is not None and hmac.compare_digest(given.encode("utf-8"), key.encode("utf-8"))


def role_of(settings: Settings, authorization: str | None) -> str:
    """Return the role the ``Authorization`` header proves, or raise :class:`AuthError` (401)."""
    if not authorization:
        raise AuthError(401, "unauthorized", "send 'Authorization: Bearer <key>' with an agent or admin key")
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthError(401, "unauthorized", "the Authorization header must be 'Bearer <key>'")
    admin = settings.admin_key.get_secret_value() if settings.admin_key else None
    agent = settings.agent_key.get_secret_value() if settings.agent_key else None
    # Both comparisons always run, so timing does not tell which key was close.
    is_admin, is_agent = _same(token, admin), _same(token, agent)
    if is_admin:
        return ADMIN
    if is_agent:
        return AGENT
    raise AuthError(401, "unauthorized", "the key is not valid")


def authorize(settings: Settings, authorization: str | None, need: str) -> str:
    """Check that the caller has role ``need`` (an admin may do what an agent may); return the caller's role."""
    configured = settings.admin_key is not None or (need == AGENT and settings.agent_key is not None)
    if not configured:
        which = _SETTING[need] if need == ADMIN else f"{_SETTING[AGENT]} (or {_SETTING[ADMIN]})"
        raise AuthError(403, "not_configured", f"{need} endpoints are disabled on this server: set {which}")
    role = role_of(settings, authorization)
    if need == ADMIN and role != ADMIN:
        raise AuthError(403, "forbidden", "this endpoint needs the admin key (PASOKH_ADMIN_KEY)")
    return role
