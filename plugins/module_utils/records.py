# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deployment records: what a record may hold, and the file sink of the development environment.

A record is one JSON object. The CloudWatch Logs sink (module_utils/aws.py) serves the AWS
environments; a JSON Lines file serves the development environment. Both read back newest first.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone

from ansible_collections.switchyard.bluegreen.plugins.module_utils.core.redact import redact

# The CloudWatch Logs stream of the deployment records (AWS environments).
RECORD_STREAM = "records"


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
