# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deployment contract: where an environment publishes it, and reading it (pure, tests/unit)."""

from __future__ import annotations

import json

# Terraform publishes the contract of stack <name> as a String parameter holding JSON here.
PARAMETER_TEMPLATE = "/switchyard/{name}/deployment"
# The only traffic layer a contract published in AWS describes (development's HAProxy contract
# lives in its inventory).
PUBLISHED_LAYER = "alb"
# The contract's shape this collection reads (modules/stack/contract.tf's contract_version): a key
# is renamed or removed only with a new version, so a reader refuses any other one.
CONTRACT_VERSION = 1


class ContractError(ValueError):
    """The contract cannot be used; the message names the parameter and the way out."""


def parameter_name(parameter=None, name=None):
    """The parameter to read: the one given, else the conventional one of the stack name."""
    return parameter or PARAMETER_TEMPLATE.format(name=name)


def parse(value, parameter):
    """The contract held by the parameter's value, or ContractError."""
    try:
        contract = json.loads(value)
    except ValueError as e:
        raise ContractError(
            f"SSM parameter {parameter} does not hold JSON ({e}). It is written by Terraform: re-run"
            " playbooks/provision.yml for this environment."
        ) from e
    if not isinstance(contract, dict):
        raise ContractError(
            f"SSM parameter {parameter} holds {type(contract).__name__} JSON, not an object. It is written"
            " by Terraform: re-run playbooks/provision.yml for this environment."
        )
    version = contract.get("contract_version")
    if version != CONTRACT_VERSION:
        raise ContractError(
            f"The deployment contract in SSM parameter {parameter} has contract_version {version!r}; this"
            f" version of switchyard.bluegreen reads version {CONTRACT_VERSION}. Provision the environment"
            " with the Terraform modules of this collection version (playbooks/provision.yml), or run the"
            " collection version that published it. Nothing was changed."
        )
    layer = contract.get("layer")
    if layer != PUBLISHED_LAYER:
        raise ContractError(
            f"The deployment contract in SSM parameter {parameter} has layer {layer!r}; a contract read from"
            f" AWS must have layer {PUBLISHED_LAYER!r} (the HAProxy environment's contract is its inventory's)."
        )
    return contract


def require(contract, keys, parameter):
    """The contract, once it holds every one of keys; else ContractError naming the missing ones.
    A reader checks what it will use before it takes anything (the guard, before the lease)."""
    missing = [key for key in keys if key not in contract]
    if missing:
        raise ContractError(
            f"The deployment contract in SSM parameter {parameter} lacks {', '.join(missing)}. It is written by"
            " Terraform: provision the environment again (playbooks/provision.yml). Nothing was changed."
        )
    return contract
