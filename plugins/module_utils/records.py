# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deployment records: what a record may hold, and the file sink of the development environment.

A record is one JSON object. The CloudWatch Logs sink (module_utils/aws.py) serves the AWS
environments; a JSON Lines file serves the development environment. Both read back newest first.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timezone

REDACTED = "REDACTED"
# The CloudWatch Logs stream of the deployment records (AWS environments).
RECORD_STREAM = "records"
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


def stamped(record, now=None):
    """The record with secrets redacted and recorded_at (ISO 8601, UTC) added; and what was redacted."""
    clean, redacted = redact(dict(record))
    # timezone.utc, not datetime.UTC: managed nodes may run Pythons older than 3.11.
    clean["recorded_at"] = (now or datetime.now(timezone.utc)).isoformat()  # noqa: UP017
    return clean, redacted


def to_line(record):
    """The record as stored: one line of JSON."""
    return json.dumps(record, sort_keys=True)


def append_line(path, line, mode=0o644):
    """Append one line to the file, creating it (with mode) and its directory when missing."""
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    created = not os.path.exists(path)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, mode)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)
    if created:
        os.chmod(path, mode)  # whatever the umask


def parse_records(lines):
    """The JSON objects among lines, in order; lines that are not one of ours are skipped."""
    records = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


def latest_from_file(path, limit):
    """The last limit records of the file, newest first; [] when there is no file yet."""
    try:
        with open(path, encoding="utf-8") as handle:
            records = parse_records(handle.read().splitlines())
    except FileNotFoundError:
        return []
    return list(reversed(records[-limit:])) if limit > 0 else []


def latest_from_events(events, limit):
    """The records of log events, newest first (by event time), at most limit."""
    ordered = sorted(events, key=lambda event: event["timestamp"], reverse=True)
    return parse_records(event["message"] for event in ordered)[:limit]
