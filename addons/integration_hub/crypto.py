"""Encryption of secrets at rest, with no ORM.

The keys come from the server configuration (option ``integration_hub_encryption_key``,
comma-separated Fernet keys), never from the database: the first key encrypts, all keys
decrypt, so a new key can be put first and old secrets still read until re-encrypted.
"""

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

CONFIG_OPTION = "integration_hub_encryption_key"


class EncryptionKeyError(RuntimeError):
    """No usable encryption key is configured."""


def generate_key():
    return Fernet.generate_key().decode()


def cipher(keys_text):
    keys = [key.strip() for key in (keys_text or "").split(",") if key.strip()]
    if not keys:
        raise EncryptionKeyError(
            f"No encryption key: set '{CONFIG_OPTION}' in the [options] section of the "
            "Odoo server configuration (generate one with "
            "`python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'`)."
        )
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise EncryptionKeyError(
            f"'{CONFIG_OPTION}' holds a key that is not a valid Fernet key"
        ) from exc


def encrypt(keys_text, plaintext):
    return cipher(keys_text).encrypt(plaintext.encode()).decode()


def decrypt(keys_text, token):
    try:
        return cipher(keys_text).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise EncryptionKeyError(
            f"A secret cannot be decrypted with the keys in '{CONFIG_OPTION}': "
            "was the key that encrypted it removed?"
        ) from exc
