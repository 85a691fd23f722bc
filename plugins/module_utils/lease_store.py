# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the deployment lease lives, applying core.lease's decisions with conditional writes:
- DynamoStore (AWS): GetItem (consistent), decide, PutItem on the condition that the token is
  still the one read; on ConditionalCheckFailedException it reads and decides again. Acquiring a
  lease nobody holds is one UpdateItem on that condition, adding one to the token. A heartbeat
  or release of the run that holds the lease is one UpdateItem on the condition that the item is
  still held with its token (its changes do not depend on the rest of the item); when the
  condition fails, it reads and decides as above (the run has lost the lease, or released it).
- FileStore (development environment): a JSON file {environment: item}; read-decide-write under
  an exclusive flock of a lock file beside it; written atomically (temporary file, os.replace).
"""

from __future__ import annotations

import json
import os
import tempfile
from decimal import Decimal

try:
    import fcntl
except ImportError:  # not POSIX: the file backend says so when used
    fcntl = None

try:
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
    from botocore.exceptions import ClientError
except ImportError:  # the file backend needs no boto3; the module checks for it before DynamoDB
    TypeDeserializer = TypeSerializer = None
    ClientError = None

try:
    from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler

    aws_error_handler = AWSErrorHandler.common_error_handler
except ImportError:  # in the guard's Lambda package, which has no Ansible

    def aws_error_handler(description):
        return lambda function: function  # botocore's errors as they are


from ansible_collections.switchyard.bluegreen.plugins.module_utils.core.lease import (
    ACQUIRED,
    CONFLICT_RETRIES,
    HELD,
    RELEASED,
    LeaseError,
    decide,
    holder_changes,
    new_lease,
    plain,
    token_of,
)


class LeaseTableMissing(LeaseError):
    def __init__(self, table):
        super().__init__(
            f"The DynamoDB table {table} of the deployment lease does not exist (in this account and region)."
            " Provision the environment first (playbooks/provision.yml). Nothing was changed."
        )


def _decimals(value):
    """value with floats as Decimal, which is what boto3's serializer accepts."""
    if isinstance(value, dict):
        return {key: _decimals(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_decimals(item) for item in value]
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


def to_dynamodb(item):
    """The item in DynamoDB's attribute-value form."""
    return TypeSerializer().serialize(_decimals(item))["M"]


def from_dynamodb(attributes):
    """A DynamoDB item as plain values (int, float, str, dict, list, None)."""
    return plain(TypeDeserializer().deserialize({"M": attributes}))


# --- DynamoDB (AWS environments) -------------------------------------------------------------


def error_code(error):
    """The AWS error code of a botocore ClientError."""
    return error.response.get("Error", {}).get("Code")


@aws_error_handler("read the deployment lease")
def get_lease_item(dynamodb, table, environment, **retry):
    """The raw item of environment, or None. retry: aws_retry=True for a module's client."""
    try:
        response = dynamodb.get_item(
            TableName=table, Key={"environment": {"S": environment}}, ConsistentRead=True, **retry
        )
    except ClientError as e:
        if error_code(e) == "ResourceNotFoundException":
            raise LeaseTableMissing(table) from None
        raise
    return response.get("Item")


def conditional_write(table, write):
    """write()'s response, or None when its condition did not hold (another run wrote first)."""
    try:
        return write()
    except ClientError as e:
        if error_code(e) == "ConditionalCheckFailedException":
            return None
        if error_code(e) == "ResourceNotFoundException":
            raise LeaseTableMissing(table) from None
        raise


@aws_error_handler("write the deployment lease")
def put_lease_item(dynamodb, table, attributes, seen, **retry):
    """Write the item if its token is still seen (0: no item); False when another write came first."""
    written = conditional_write(
        table,
        lambda: dynamodb.put_item(
            TableName=table,
            Item=attributes,
            ConditionExpression="attribute_not_exists(environment) OR #token = :seen",
            ExpressionAttributeNames={"#token": "token"},
            ExpressionAttributeValues={":seen": {"N": str(seen)}},
            **retry,
        ),
    )
    return written is not None


def set_clauses(items, prefix, path, names, values):
    """The SET clauses of an UpdateItem that writes items ({attribute: value}, under path), their
    placeholders added to names and values."""
    clauses = []
    for index, (key, value) in enumerate(sorted(items.items())):
        names[f"#{prefix}{index}"] = key
        values[f":{prefix}{index}"] = TypeSerializer().serialize(_decimals(value))
        clauses.append(f"{path}#{prefix}{index} = :{prefix}{index}")
    return clauses


@aws_error_handler("write the deployment lease")
def update_held_item(dynamodb, table, environment, token, changes, **retry):
    """Apply holder_changes to the item if it is still held with token: the item before, or None
    when it is not (another run took it, or it was released)."""
    fields, details = changes
    names = {"#token": "token", "#state": "state"}
    if details:
        names["#details"] = "details"  # DynamoDB refuses a name the expressions do not use
    values = {":token": {"N": str(token)}, ":held": {"S": HELD}}
    sets = set_clauses(fields, "f", "", names, values) + set_clauses(details, "d", "#details.", names, values)
    response = conditional_write(
        table,
        lambda: dynamodb.update_item(
            TableName=table,
            Key={"environment": {"S": environment}},
            UpdateExpression="SET " + ", ".join(sets),
            ConditionExpression="#token = :token AND #state = :held",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_OLD",
            **retry,
        ),
    )
    return None if response is None else from_dynamodb(response["Attributes"])


@aws_error_handler("write the deployment lease")
def take_free_item(dynamodb, table, lease, **retry):
    """Write lease (a new holder's item) if the environment's item is missing or not held, adding
    one to its token: (True, the item before or None) when it was free, (False, None) when a run
    holds it (the caller reads and decides: refuse, or take a stale lease over)."""
    fields = {key: value for key, value in lease.items() if key not in ("environment", "token")}
    names = {"#environment": "environment", "#token": "token", "#state": "state"}
    values = {":one": {"N": "1"}, ":held": {"S": HELD}}
    sets = set_clauses(fields, "f", "", names, values)
    response = conditional_write(
        table,
        lambda: dynamodb.update_item(
            TableName=table,
            Key={"environment": {"S": lease["environment"]}},
            UpdateExpression="SET " + ", ".join(sets) + " ADD #token :one",
            ConditionExpression="attribute_not_exists(#environment) OR #state <> :held",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_OLD",
            **retry,
        ),
    )
    if response is None:
        return False, None
    return True, from_dynamodb(response["Attributes"]) if response.get("Attributes") else None


class DynamoStore:
    """The lease items in a DynamoDB table whose partition key is environment (S).

    A module's client retries through amazon.aws (aws_retry=True on each call); a plain boto3
    client (the guard's) relies on botocore's own retries: aws_retry=False.
    """

    def __init__(self, dynamodb, table, aws_retry=True):
        self.dynamodb = dynamodb
        self.table = table
        self.retry = {"aws_retry": True} if aws_retry else {}

    def read(self, environment):
        attributes = get_lease_item(self.dynamodb, self.table, environment, **self.retry)
        return from_dynamodb(attributes) if attributes else None

    def settle(self, environment, choose, write=True):
        """(item before, decision): read, choose, write on the token read; again on a conflict."""
        for _attempt in range(1 + CONFLICT_RETRIES):
            current = self.read(environment)
            decision = choose(current)
            if not (write and decision.write):
                return current, decision
            if put_lease_item(self.dynamodb, self.table, to_dynamodb(decision.lease), token_of(current), **self.retry):
                return current, decision
        raise LeaseError(
            f"The deployment lease of {environment} in {self.table} changed under this run"
            f" {1 + CONFLICT_RETRIES} times in a row; nothing was changed. Run again."
        )

    def settle_state(self, environment, state, request, here, write=True):
        """(item before, decision) for decide(state, ...), in one call when the run that holds the
        lease renews or releases it, and when a run acquires a lease nobody holds."""
        if write and state == ACQUIRED:
            # The usual case, a lease nobody holds, in one conditional write; a held one (refused,
            # or a stale one taken over) as settle() decides.
            free, before = take_free_item(self.dynamodb, self.table, new_lease(None, request, here.now), **self.retry)
            if free:
                return before, decide(state, before, request, here)
        if write and state in (HELD, RELEASED) and request.token is not None:
            before = update_held_item(
                self.dynamodb,
                self.table,
                environment,
                int(request.token),
                holder_changes(state, request, here),
                **self.retry,
            )
            if before is not None:
                return before, decide(state, before, request, here)
        return self.settle(environment, lambda current: decide(state, current, request, here), write=write)


# --- file (development environment) ----------------------------------------------------------


class FileStore:
    """The lease items in a JSON file {environment: item}, locked through <path>.lock."""

    def __init__(self, path, mode=0o644):
        self.path = path
        self.lock_path = path + ".lock"
        self.mode = mode

    def _load(self):
        try:
            with open(self.path, encoding="utf-8") as handle:
                data = json.load(handle)
        except FileNotFoundError:
            return {}
        except ValueError as e:
            raise LeaseError(
                f"The deployment lease file {self.path} is not JSON ({e}). Fix or remove it. Nothing was changed."
            ) from None
        if not isinstance(data, dict):
            raise LeaseError(f"The deployment lease file {self.path} does not hold a JSON object. Nothing was changed.")
        return data

    def read(self, environment):
        return self._load().get(environment)

    def _replace(self, data):
        """Write data atomically: a temporary file in the same directory, then os.replace."""
        directory = os.path.dirname(self.path) or "."
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(self.path)}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, indent=2, sort_keys=True)
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temporary, self.mode)
            os.replace(temporary, self.path)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise

    def settle(self, environment, choose, write=True):
        """(item before, decision): read, choose and write under an exclusive lock (reads only when not write)."""
        if not write:
            current = self.read(environment)
            return current, choose(current)
        if fcntl is None:
            raise LeaseError("The file backend of the deployment lease needs a POSIX system (fcntl).")
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, self.mode)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            data = self._load()
            current = data.get(environment)
            decision = choose(current)
            if decision.write:
                self._replace(dict(data, **{environment: decision.lease}))
            return current, decision
        finally:
            os.close(fd)  # releases the lock

    def settle_state(self, environment, state, request, here, write=True):
        """(item before, decision) for decide(state, ...), under the lock."""
        return self.settle(environment, lambda current: decide(state, current, request, here), write=write)
