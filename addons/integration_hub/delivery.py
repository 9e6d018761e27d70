"""Outbound HTTP delivery, with no ORM: payload shaping, the guarded HTTP client, the
reading of an answer.

The client refuses targets on private, loopback, link-local, multicast or reserved
addresses (SSRF) unless told otherwise. It checks the address the socket actually
connected to, not only what a first DNS lookup said, so a name that resolves to a
public address once and a private one the next time (DNS rebinding) is still refused.
Redirects are never followed and no proxy or .netrc of the environment is used.
"""

import base64
import copy
import email.utils
import ipaddress
import json
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

RESPONSE_EXCERPT_BYTES = 2048
MAX_RETRY_AFTER = 24 * 3600
REDACTED = "[redacted]"

# Outcomes of one delivery attempt.
DELIVERED = "delivered"
RETRY = "retry"  # 408, 429, 5xx, timeouts, connection errors: the receiver may recover
PERMANENT = "permanent"  # other 4xx, 3xx, refused target: retrying cannot help
GONE = "gone"  # 410: the receiver no longer wants these events


class ForbiddenTarget(ValueError):
    """The target address is private, loopback, link-local or reserved."""


class TokenError(RuntimeError):
    """The OAuth2 token endpoint did not give a token; ``outcome`` says if retrying helps."""

    def __init__(self, message, outcome):
        super().__init__(message)
        self.outcome = outcome


# Payload -------------------------------------------------------------------------


def split_names(text):
    """``["a", "b.c"]`` of a comma-separated list of names, blanks dropped."""
    return [name.strip() for name in (text or "").split(",") if name.strip()]


def minimise(data, keep=(), redact=()):
    """A copy of ``data`` with only the top-level keys in ``keep`` (all when empty;
    ``id`` always) and without the dotted paths in ``redact``, which never leave."""
    if keep:
        data = {key: value for key, value in data.items() if key in keep or key == "id"}
    data = copy.deepcopy(data)
    for path in redact:
        *parents, last = path.split(".")
        nodes = [data]
        for part in parents:
            nodes = [
                child
                for node in nodes
                for child in (node if isinstance(node, list) else [node])
                if isinstance(child, dict)
                for child in [child.get(part)]
                if child is not None
            ]
        for node in nodes:
            for item in node if isinstance(node, list) else [node]:
                if isinstance(item, dict):
                    item.pop(last, None)
    return data


def envelope(event_type, version, timestamp, data):
    """The canonical JSON body of an outbound event, as bytes."""
    return json.dumps(
        {
            "type": event_type,
            "version": version,
            "timestamp": timestamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "data": data,
        },
        ensure_ascii=False,
        separators=(",", ":"),
        sort_keys=True,
    ).encode()


# Reading answers ---------------------------------------------------------------------


def classify(status):
    """The outcome of an HTTP status code."""
    if 200 <= status < 300:
        return DELIVERED
    if status == 410:
        return GONE
    if status in (408, 429) or status >= 500:
        return RETRY
    return PERMANENT


def retry_after(value, now=None):
    """Seconds a ``Retry-After`` header asks to wait (None when absent or unreadable)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = int(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when is None or when.tzinfo is None:
            return None
        seconds = int(when.timestamp() - (time.time() if now is None else now))
    return max(0, min(seconds, MAX_RETRY_AFTER))


# The guarded client ------------------------------------------------------------------


# IPv6 ranges Python still calls global but that lead into a private network: NAT64
# (a gateway translating to any IPv4 address, private ones included), 6to4 (an IPv4
# address inside the IPv6 one) and the deprecated site-local range.
_TRANSLATED_OR_SITE_LOCAL = tuple(
    ipaddress.ip_network(net)
    for net in ("64:ff9b::/96", "64:ff9b:1::/48", "2002::/16", "fec0::/10")
)


def is_public_address(address):
    ip = ipaddress.ip_address(address.split("%")[0])
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.version == 6 and any(ip in net for net in _TRANSLATED_OR_SITE_LOCAL):
        return False
    return ip.is_global and not ip.is_multicast


def check_url(url, allow_private=False):
    """Raise ``ForbiddenTarget`` or ``ValueError`` if ``url`` may not be called."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"'{url}' is not an http(s) URL")
    if parts.username or parts.password:
        raise ValueError("credentials in the URL are refused: use the backend's authentication")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except socket.gaierror:
        return  # unresolvable now: a connection error, retried, and checked on connect
    for info in infos:
        if not is_public_address(info[4][0]):
            raise ForbiddenTarget(
                f"{parts.hostname} resolves to {info[4][0]}, a private, loopback, link-local "
                "or reserved address"
            )


class _GuardedConnectionMixin:
    def _new_conn(self):
        sock = super()._new_conn()
        peer = sock.getpeername()[0]
        if not is_public_address(peer):
            sock.close()
            raise ForbiddenTarget(
                f"{self.host} connected to {peer}, a private, loopback, link-local or "
                "reserved address"
            )
        return sock


class _GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(requests.adapters.HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        result = super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _GuardedHTTPPool,
            "https": _GuardedHTTPSPool,
        }
        return result


_sessions = threading.local()


def session(allow_private=False):
    """This thread's HTTP session (connections kept alive between deliveries)."""
    key = "private" if allow_private else "guarded"
    current = getattr(_sessions, key, None)
    if current is None:
        current = requests.Session()
        current.trust_env = False  # no proxy, no .netrc credentials from the environment
        if not allow_private:
            current.mount("http://", _GuardedAdapter())
            current.mount("https://", _GuardedAdapter())
        setattr(_sessions, key, current)
    return current


@dataclass
class Answer:
    outcome: str
    status: int = 0
    excerpt: str = ""
    error: str = ""
    retry_after: int | None = None
    duration_ms: int = 0


def post(url, body, headers, timeouts, allow_private=False):
    """POST ``body`` and read the answer; never raises for what the network does."""
    started = time.monotonic()

    def answer(**values):
        return Answer(duration_ms=int((time.monotonic() - started) * 1000), **values)

    try:
        check_url(url, allow_private)
        response = session(allow_private).post(
            url, data=body, headers=headers, timeout=timeouts, allow_redirects=False, stream=True
        )
    except ForbiddenTarget as exc:
        return answer(outcome=PERMANENT, error=f"Refused target: {exc}")
    except ValueError as exc:
        return answer(outcome=PERMANENT, error=str(exc))
    except requests.Timeout as exc:
        return answer(outcome=RETRY, error=f"Timeout: {type(exc).__name__}")
    except requests.RequestException as exc:
        return answer(outcome=RETRY, error=f"Connection failed: {type(exc).__name__}")
    try:
        raw = response.raw.read(RESPONSE_EXCERPT_BYTES, decode_content=True) or b""
    except (requests.RequestException, OSError) as exc:
        raw = f"(body unreadable: {type(exc).__name__})".encode()
    finally:
        response.close()
    outcome = classify(response.status_code)
    error = ""
    if 300 <= response.status_code < 400:
        error = f"Redirect to {response.headers.get('Location', '?')} not followed"
    elif outcome != DELIVERED:
        error = f"HTTP {response.status_code}"
    return answer(
        outcome=outcome,
        status=response.status_code,
        excerpt=raw.decode("utf-8", "replace"),
        error=error,
        retry_after=retry_after(response.headers.get("Retry-After")),
    )


# OAuth2 client credentials -----------------------------------------------------------

_token_lock = threading.Lock()
_tokens = {}  # cache key -> (access token, monotonic expiry)


def oauth2_token(cache_key, *, token_url, client_id, client_secret, scope, timeouts, **kw):
    """An access token of the client-credentials grant, cached until shortly before it
    expires. ``cache_key`` must change whenever any credential does."""
    with _token_lock:
        cached = _tokens.get(cache_key)
    if cached and cached[1] > time.monotonic():
        return cached[0]
    allow_private = kw.get("allow_private", False)
    form = {"grant_type": "client_credentials"}
    if scope:
        form["scope"] = scope
    basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
    try:
        check_url(token_url, allow_private)
        response = session(allow_private).post(
            token_url,
            data=form,
            headers={"Authorization": f"Basic {basic}", "Accept": "application/json"},
            timeout=timeouts,
            allow_redirects=False,
        )
    except ValueError as exc:
        raise TokenError(f"Token endpoint refused: {exc}", PERMANENT) from exc
    except requests.RequestException as exc:
        raise TokenError(f"Token endpoint unreachable: {type(exc).__name__}", RETRY) from exc
    outcome = classify(response.status_code)
    if outcome != DELIVERED:
        raise TokenError(
            f"Token endpoint answered HTTP {response.status_code}",
            RETRY if outcome == RETRY else PERMANENT,
        )
    try:
        content = response.json()
        token = content["access_token"]
        lifetime = int(content.get("expires_in") or 300)
    except (ValueError, KeyError, TypeError) as exc:
        raise TokenError("Token endpoint answered without an access_token", PERMANENT) from exc
    with _token_lock:
        _tokens[cache_key] = (token, time.monotonic() + max(lifetime - 30, 1))
    return token


def forget_token(cache_key):
    """Drop a cached token the receiver refused (it is fetched again next time)."""
    with _token_lock:
        _tokens.pop(cache_key, None)
