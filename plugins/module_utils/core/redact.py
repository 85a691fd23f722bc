# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secrets never reach a record, a lease or a log (pure): redact() replaces them wherever they are."""

from __future__ import annotations

import re

REDACTED = "REDACTED"
# Words of keys whose values are secrets (db_password, apiKey, X-Auth-Token, private_key...).
_SECRET_WORDS = frozenset(("password", "passwd", "passphrase", "secret", "token", "credential", "credentials"))
_SECRET_PAIRS = frozenset((("private", "key"), ("api", "key"), ("access", "key"), ("auth", "header")))
_SECRET_WHOLE = frozenset(("authorization", "apikey", "pwd"))
# ...but the ARN, name or id of a secret is not a secret (master_secret_arn).
_REFERENCE_WORDS = frozenset(("arn", "name", "id"))
# user:password@ in a URL (a database URL pasted into a failure message, for example).
_URL_PASSWORD = re.compile(r"(\w+://[^/\s:@]+:)[^@\s/]+@")


def _words(key):
    """db_password -> [db, password]; apiKey -> [api, key]; X-Auth-Token -> [x, auth, token]."""
    return [word.lower() for word in re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", key)]


def _secret_key(key):
    words = _words(key)
    if not words or words[-1] in _REFERENCE_WORDS:
        return False
    return (
        bool(_SECRET_WORDS.intersection(words))
        or bool(_SECRET_WHOLE.intersection(words))
        or any(pair in _SECRET_PAIRS for pair in zip(words, words[1:], strict=False))
    )


def redact(value, path=""):
    """(value with secrets replaced by REDACTED, [paths that were redacted]).

    Redacts the values of secret-looking keys at any depth and passwords in URLs within strings.
    """
    if isinstance(value, dict):
        clean, found = {}, []
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            # A bare integer "token" is a deployment lease's fencing number, never a credential.
            fencing = key == "token" and isinstance(item, int) and not isinstance(item, bool)
            if _secret_key(str(key)) and item not in (None, "") and not fencing:
                clean[key], found = REDACTED, [*found, where]
            else:
                clean[key], inner = redact(item, where)
                found += inner
        return clean, found
    if isinstance(value, list):
        clean, found = [], []
        for index, item in enumerate(value):
            clean_item, inner = redact(item, f"{path}[{index}]")
            clean.append(clean_item)
            found += inner
        return clean, found
    if isinstance(value, str) and _URL_PASSWORD.search(value):
        return _URL_PASSWORD.sub(rf"\1{REDACTED}@", value), [path]
    return value, []
