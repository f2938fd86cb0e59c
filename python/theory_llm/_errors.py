"""The exceptions of theory_llm: one class per kind of the Rust crate's errors.

Each is an LLMError, and some are also a built-in exception, so that plain handlers
work: ``except ValueError`` catches an unavailable provider, a model that is not
there and an invalid request; ``except ConnectionError`` a network failure;
``except TimeoutError`` a time limit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._native import LLMReply


class LLMError(Exception):
    """A failed request. ``kind`` is the Rust error kind (``"model_not_found"``),
    ``status`` the HTTP status if there was one, ``partial`` what the reply had
    delivered before it failed (an LLMReply), or None."""

    kind: str = "llm_error"

    def __init__(
        self,
        message: str,
        *,
        kind: str | None = None,
        status: int | None = None,
        partial: LLMReply | None = None,
    ) -> None:
        super().__init__(message)
        if kind is not None:
            self.kind = kind
        self.status = status
        self.partial = partial
        self._details: dict[str, Any] | None = None

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""

    def to_dict(self) -> dict[str, Any]:
        """The error object ``hello_llm --json`` prints: ``{"error": {"kind",
        "message", "status"}}``, with ``"partial"``, ``"rate_limit"`` and
        ``"attempts"`` when there are any."""
        if self._details is not None:
            return self._details
        return {"error": {"kind": self.kind, "message": self.message, "status": self.status}}

    def __reduce__(self) -> Any:
        # Pickled (multiprocessing sends exceptions between processes) without the
        # partial reply, which is a Rust object; its data stays in to_dict().
        return (_rebuild, (type(self), self.message, self.kind, self.status, self.to_dict(), getattr(self, "retry_after", None)))


class ProviderUnavailable(LLMError, ValueError):
    """The provider cannot be used: unknown, not configured (a missing API key), or
    not reachable."""

    kind = "provider_unavailable"


class ModelNotFound(LLMError, ValueError):
    """The provider does not know the model (for Ollama: not pulled; the message says
    ``ollama pull NAME``)."""

    kind = "model_not_found"


class InvalidRequest(LLMError, ValueError):
    """The request was rejected as invalid: by this package before sending (a bad
    argument), or by the server."""

    kind = "invalid_request"


class AuthError(LLMError):
    """The credentials were refused (HTTP 401/403)."""

    kind = "auth"


class RateLimited(LLMError):
    """Too many requests, or the quota is used up (HTTP 429). ``retry_after`` is how
    long the server asked to wait, in seconds, or None."""

    kind = "rate_limited"

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(LLMError):
    """The server failed (HTTP 5xx, or an error event in the stream)."""

    kind = "server"


class NetworkError(LLMError, ConnectionError):
    """The connection failed or was cut after the request was sent."""

    kind = "network"


class LLMTimeout(LLMError, TimeoutError):
    """A time limit was exceeded (connect, first chunk, idle gap, or ``timeout=``)."""

    kind = "timeout"


class ProtocolError(LLMError):
    """The server sent something that cannot be understood, or structured output that
    is not the JSON asked for."""

    kind = "protocol"


class Cancelled(LLMError):
    """The work was cancelled before it finished."""

    kind = "cancelled"


_BY_KIND: dict[str, type[LLMError]] = {
    cls.kind: cls
    for cls in (
        ProviderUnavailable,
        ModelNotFound,
        InvalidRequest,
        AuthError,
        RateLimited,
        ServerError,
        NetworkError,
        LLMTimeout,
        ProtocolError,
        Cancelled,
    )
}


def _from_native(
    kind: str,
    message: str,
    status: int | None,
    retry_after: float | None,
    partial: LLMReply | None,
    details: dict[str, Any],
) -> LLMError:
    """The exception for a Rust error (called by the extension module)."""
    cls = _BY_KIND.get(kind, LLMError)
    if cls is RateLimited:
        error: LLMError = RateLimited(message, retry_after=retry_after, kind=kind, status=status, partial=partial)
    else:
        error = cls(message, kind=kind, status=status, partial=partial)
    error._details = details
    return error


def _rebuild(
    cls: type[LLMError],
    message: str,
    kind: str,
    status: int | None,
    details: dict[str, Any],
    retry_after: float | None,
) -> LLMError:
    error = _from_native(kind, message, status, retry_after, None, details)
    if type(error) is not cls:
        error = cls(message, kind=kind, status=status)
        error._details = details
    return error
