"""Standard Webhooks signatures (https://www.standardwebhooks.com), with no ORM.

The signed content is ``{webhook-id}.{webhook-timestamp}.{body}``. ``v1`` is
HMAC-SHA256 with a ``whsec_`` secret; ``v1a`` is Ed25519 with the sender's
``whpk_`` public key. A header may carry several space-separated signatures
and an endpoint may hold several keys at once (rotation): one match suffices.
"""

import base64
import binascii
import hashlib
import hmac
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

HMAC_PREFIX = "whsec_"
ED25519_PUBLIC_PREFIX = "whpk_"
ED25519_PRIVATE_PREFIX = "whsk_"
SCHEME_HMAC = "v1"
SCHEME_ED25519 = "v1a"
# A static token in the Authorization header, for senders that cannot sign (a FHIR
# server's subscription, an HL7 bridge): weaker than a signature, so opt-in per endpoint.
SCHEME_BEARER = "bearer"
BEARER_MIN_LENGTH = 12


class SignatureError(ValueError):
    """The request is not signed by a key of the endpoint."""


class StaleTimestampError(ValueError):
    """The webhook-timestamp is older than the tolerance (or not a timestamp)."""


class FutureTimestampError(ValueError):
    """The webhook-timestamp is further ahead than the tolerance."""


def _b64decode(value, what):
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureError(f"{what} is not valid base64") from exc


def decode_key(key):
    """Raw key bytes of a ``whsec_``/``whpk_``/``whsk_`` key (prefix optional)."""
    for prefix in (HMAC_PREFIX, ED25519_PUBLIC_PREFIX, ED25519_PRIVATE_PREFIX):
        if key.startswith(prefix):
            key = key[len(prefix) :]
            break
    return _b64decode(key, "key")


def check_key(scheme, key):
    """Raise ``ValueError`` if ``key`` cannot be used for ``scheme``."""
    if scheme == SCHEME_BEARER:
        if len(key) < BEARER_MIN_LENGTH or not key.isascii() or not key.isprintable() or " " in key:
            raise ValueError(
                f"a bearer token is at least {BEARER_MIN_LENGTH} printable ASCII characters "
                "without spaces"
            )
        return
    raw = decode_key(key)
    if scheme == SCHEME_ED25519:
        if not key.startswith(ED25519_PUBLIC_PREFIX) or len(raw) != 32:
            raise ValueError("an Ed25519 key is a whpk_ public key of 32 bytes")
    elif len(raw) < 16:
        raise ValueError("an HMAC secret must hold at least 16 bytes")


def signed_content(msg_id, timestamp, body):
    return b"%s.%s.%s" % (msg_id.encode(), str(timestamp).encode(), body)


def sign_hmac(secret, msg_id, timestamp, body):
    digest = hmac.new(
        decode_key(secret), signed_content(msg_id, timestamp, body), hashlib.sha256
    ).digest()
    return f"{SCHEME_HMAC},{base64.b64encode(digest).decode()}"


def sign_ed25519(private_key, msg_id, timestamp, body):
    key = Ed25519PrivateKey.from_private_bytes(decode_key(private_key))
    signature = key.sign(signed_content(msg_id, timestamp, body))
    return f"{SCHEME_ED25519},{base64.b64encode(signature).decode()}"


def parse_signature_header(header):
    """``[(scheme, signature bytes)]`` of a ``webhook-signature`` header."""
    signatures = []
    for part in (header or "").split():
        scheme, _sep, value = part.partition(",")
        if scheme in (SCHEME_HMAC, SCHEME_ED25519) and value:
            try:
                signatures.append((scheme, base64.b64decode(value, validate=True)))
            except (binascii.Error, ValueError):
                continue
    return signatures


def verify(keys, msg_id, timestamp, body, signature_header):
    """Return the key that signed the request, or raise ``SignatureError``.

    ``keys`` is an iterable of ``(scheme, key)``; comparisons run in constant time.
    """
    signatures = parse_signature_header(signature_header)
    if not signatures:
        raise SignatureError("no v1 or v1a signature in the webhook-signature header")
    content = signed_content(msg_id, timestamp, body)
    for scheme, key in keys:
        if scheme == SCHEME_HMAC:
            expected = hmac.new(decode_key(key), content, hashlib.sha256).digest()
            if any(
                hmac.compare_digest(expected, sig)
                for sig_scheme, sig in signatures
                if sig_scheme == SCHEME_HMAC
            ):
                return scheme, key
        elif scheme == SCHEME_ED25519:
            public_key = Ed25519PublicKey.from_public_bytes(decode_key(key))
            for sig_scheme, sig in signatures:
                if sig_scheme != SCHEME_ED25519:
                    continue
                try:
                    public_key.verify(sig, content)
                    return scheme, key
                except InvalidSignature:
                    continue
    raise SignatureError("no signature matches a key of this endpoint")


def check_bearer(keys, authorization):
    """True when the ``Authorization`` header carries one of the bearer ``keys``.

    Every key is compared, in constant time, so the answer's timing tells nothing.
    """
    kind, _sep, token = (authorization or "").strip().partition(" ")
    token = token.strip().encode()
    if kind.lower() != "bearer" or not token:
        return False
    matched = False
    for scheme, key in keys:
        if scheme == SCHEME_BEARER and hmac.compare_digest(key.encode(), token):
            matched = True
    return matched


def check_timestamp(timestamp, tolerance, now=None):
    """Return the timestamp as an int, or raise a ``ValueError`` subclass if out of tolerance."""
    try:
        value = int(timestamp)
    except (TypeError, ValueError) as exc:
        raise StaleTimestampError("webhook-timestamp is not a Unix timestamp in seconds") from exc
    now = time.time() if now is None else now
    if value < now - tolerance:
        raise StaleTimestampError(f"webhook-timestamp is older than {tolerance} seconds")
    if value > now + tolerance:
        raise FutureTimestampError(f"webhook-timestamp is more than {tolerance} seconds ahead")
    return value
