#!/usr/bin/python
# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: ecs_service_deploy
short_description: Set the image, task definition and desired count of an ECS service, and nothing else
version_added: 0.1.0
description:
  - Sets what a release owns on an existing ECS service (Terraform owns the rest, see the
    collection's design). Unlike M(community.aws.ecs_service) it never compares or rewrites
    load balancers, tags or network settings, so it cannot fight Terraform.
  - With I(image), the service runs a copy of a task definition revision (I(task_definition),
    or the one the service runs) in which only the image of the chosen containers differs.
    Every registrable field of the revision is kept as it is (volumes, placement constraints,
    runtime platform and CPU architecture, required compatibilities, ephemeral storage, roles,
    tags...). An existing revision is reused when the service already runs that copy or the
    revision to copy is that copy already; otherwise a new revision is registered. Outside
    check mode there is no search of the family's revisions, so a rerun after a failure between
    registering and updating the service registers the same body again, which is harmless.
  - Changes only what differs; check mode predicts (including the ARN a new revision would get),
    diff mode shows before and after.
author:
  - switchyard contributors (@switchyard)
options:
  cluster:
    description: Name or ARN of the ECS cluster.
    type: str
    required: true
  service:
    description: Name of the ECS service.
    type: str
    required: true
  task_definition:
    description:
      - Task definition (ARN or C(family:revision)) to run.
      - With I(image), the revision to copy; the service's current one when omitted.
    type: str
  image:
    description:
      - Image the chosen containers run, by digest where known
        (C(registry/app@sha256:...)).
    type: str
  containers:
    description:
      - Names of the containers whose image becomes I(image); the other containers keep theirs.
      - Defaults to the first container of the task definition (the application).
    type: list
    elements: str
  desired_count:
    description: Number of tasks; unchanged when omitted.
    type: int
extends_documentation_fragment:
  - switchyard.bluegreen.fence
  - switchyard.bluegreen.known_state
  - switchyard.bluegreen.known_state.service
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Run the new image on green, as a copy of blue's revision, at blue's size
  switchyard.bluegreen.ecs_service_deploy:
    cluster: "{{ deployment.cluster_name }}"
    service: "{{ deployment.service_names.green }}"
    task_definition: "{{ state.colours.blue.task_definition }}"
    image: registry.example.com/app@sha256:0123abcd
    desired_count: "{{ state.colours.blue.desired_count }}"
    # Read already under the run's lease: not described again.
    known_revisions: "{{ state.revisions.values() | list }}"
    known_service: "{{ state.services.green }}"
  register: released

- name: Put green back on the revision it ran before
  switchyard.bluegreen.ecs_service_deploy:
    cluster: "{{ deployment.cluster_name }}"
    service: "{{ deployment.service_names.green }}"
    task_definition: "{{ state.colours.green.task_definition }}"
    desired_count: 0

- name: Scale the old colour down after its standby
  switchyard.bluegreen.ecs_service_deploy:
    cluster: "{{ deployment.cluster_name }}"
    service: "{{ deployment.service_names.blue }}"
    desired_count: 0
"""

RETURN = r"""
lost:
  description: The run no longer holds its deployment lease (O(lease)); nothing was changed.
  returned: when the lease was lost
  type: bool
  sample: true
lease:
  description: The lease as found when it was lost (who took it, for what).
  returned: when the lease was lost
  type: dict
task_definition_arn:
  description: The task definition the service runs after the run (in check mode, what it would run).
  returned: always
  type: str
  sample: arn:aws:ecs:us-east-1:123456789012:task-definition/app:4
revision:
  description: >-
    The revision the service runs after the run, as O(known_revisions) takes it (ARN, number,
    registrable body, tags), when its body is known here; null otherwise (a given revision not in
    O(known_revisions), or a copy check mode did not register).
  returned: always
  type: dict
  sample: {"arn": "arn:aws:ecs:us-east-1:123456789012:task-definition/app:4", "revision": 4, "body": {}, "tags": []}
registered:
  description: Whether a new task definition revision was (in check mode, would be) registered.
  returned: always
  type: bool
  sample: true
previous:
  description: >-
    Task definition and desired count before the run, and with I(image) the image of each
    container.
  returned: always
  type: dict
  sample: {"task_definition": "arn:aws:ecs:us-east-1:123456789012:task-definition/app:3", "desired_count": 0,
           "images": {"app": "registry.example.com/app@sha256:aaaa"}}
current:
  description: The same after the run (predicted in check mode).
  returned: always
  type: dict
  sample: {"task_definition": "arn:aws:ecs:us-east-1:123456789012:task-definition/app:4", "desired_count": 2,
           "images": {"app": "registry.example.com/app@sha256:0123abcd"}}
diff:
  description: The values of I(previous) and I(current).
  returned: in diff mode
  type: dict
  sample: {"before": {"desired_count": 0}, "after": {"desired_count": 2}}
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.switchyard.bluegreen.plugins.module_utils import known_state
from ansible_collections.switchyard.bluegreen.plugins.module_utils.aws import (
    client,
    describe_latest_revision,
    register_task_definition,
    registrable_fields,
    update_service,
)
from ansible_collections.switchyard.bluegreen.plugins.module_utils.core.lease import LeaseError, LeaseLost
from ansible_collections.switchyard.bluegreen.plugins.module_utils.fence import FENCE_OPTION, fence
from ansible_collections.switchyard.bluegreen.plugins.module_utils.known_state import (
    KNOWN_REVISIONS_OPTION,
    KNOWN_SERVICE_OPTION,
)
from ansible_collections.switchyard.bluegreen.plugins.module_utils.task_definition import (
    ImageChangeError,
    images,
    next_revision_arn,
    registrable,
    target_containers,
    with_image,
)


def existing_service(module, ecs):
    params = module.params
    service = known_state.service(ecs, params["cluster"], params["service"], params["known_service"])
    if service is None:
        module.fail_json(
            msg=f"ECS service {params['service']} does not exist in cluster {params['cluster']}."
            " Run playbooks/provision.yml for this environment first. Nothing was changed."
        )
    return service


def read_revision(module, ecs, task_definition):
    """(body, tags) of a revision: from known_revisions when named there, else described."""
    return known_state.revision(ecs, task_definition, module.params["known_revisions"])


def revision_with_image(module, ecs, running, running_tags):
    """The revision to run for the image option: (its ARN, its body, whether to register it, tags).

    The body is the source revision (task_definition, or the running one) with only the image
    of the chosen containers changed. The running revision, or the source itself, is reused when
    it is exactly that body; otherwise the body is to be registered (with the source's tags), and
    the ARN returned is the one it would get (check mode reads the family's latest revision for
    it; registering returns the real one).
    """
    params = module.params
    accepted = registrable_fields(ecs)
    source, tags = running, running_tags
    if params["task_definition"] not in (None, running["taskDefinitionArn"]):
        source, tags = read_revision(module, ecs, params["task_definition"])
    body = registrable(source, accepted)
    try:
        body = with_image(body, params["image"], target_containers(body, params["containers"]))
    except ImageChangeError as e:
        module.fail_json(msg=f"Cannot set the image of {source['taskDefinitionArn']}: {e}. Nothing was changed.")

    for existing, existing_tags in ((running, running_tags), (source, tags)):
        if registrable(existing, accepted) == body:
            return existing["taskDefinitionArn"], body, False, existing_tags
    latest = (describe_latest_revision(ecs, body["family"]) if module.check_mode else None) or source
    return next_revision_arn(latest["taskDefinitionArn"], latest["revision"]), body, True, tags


def run(module, ecs):
    params = module.params
    service = existing_service(module, ecs)
    before = {"task_definition": service["taskDefinition"], "desired_count": service["desiredCount"]}
    after = dict(before)
    body, register, tags = None, False, None
    if params["image"] is not None:
        running, running_tags = read_revision(module, ecs, service["taskDefinition"])
        after["task_definition"], body, register, tags = revision_with_image(module, ecs, running, running_tags)
        before["images"], after["images"] = images(running), images(body)
    elif params["task_definition"] is not None:
        after["task_definition"] = params["task_definition"]
    if params["desired_count"] is not None:
        after["desired_count"] = params["desired_count"]

    # The run's lease, renewed with its journal before anything is written (a revision included).
    fence(params["lease"], lambda: client(module, "dynamodb"), check_mode=module.check_mode)()
    known = known_state.known(after["task_definition"], body, tags, params["known_revisions"])
    if not module.check_mode:
        if register:
            registered = register_task_definition(ecs, body, tags)
            after["task_definition"] = registered["taskDefinitionArn"]
            known = known_state.entry(registered, registrable(registered, registrable_fields(ecs)), tags)
        update = {}
        if after["task_definition"] != before["task_definition"]:
            update["taskDefinition"] = after["task_definition"]
        if after["desired_count"] != before["desired_count"]:
            update["desiredCount"] = after["desired_count"]
        if update:
            update_service(ecs, cluster=params["cluster"], service=params["service"], **update)

    result = dict(
        changed=after != before,
        task_definition_arn=after["task_definition"],
        registered=register,
        revision=None if register and module.check_mode else known,
        previous=before,
        current=after,
    )
    if module._diff:
        result["diff"] = {"before": before, "after": after}
    module.exit_json(**result)


ARGUMENT_SPEC = dict(
    lease=FENCE_OPTION,
    cluster=dict(type="str", required=True),
    service=dict(type="str", required=True),
    task_definition=dict(type="str"),
    image=dict(type="str"),
    containers=dict(type="list", elements="str"),
    desired_count=dict(type="int"),
    known_revisions=KNOWN_REVISIONS_OPTION,
    known_service=KNOWN_SERVICE_OPTION,
)
# Checked with the arguments, by AnsibleAWSModule and by the action plugin alike.
VALIDATION = dict(
    required_one_of=[["task_definition", "image", "desired_count"]],
    required_by={"containers": "image"},
)


def execute(module):
    """The module's run, given AnsibleAWSModule or the action plugin's ControllerModule."""
    if module.params["desired_count"] is not None and module.params["desired_count"] < 0:
        module.fail_json(msg=f"desired_count must be 0 or more, not {module.params['desired_count']}.")
    try:
        run(module, client(module, "ecs"))
    except LeaseLost as e:
        module.fail_json(msg=str(e), lost=True, lease=e.lease)
    except LeaseError as e:
        module.fail_json(msg=str(e))
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)


def main():
    execute(AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True, **VALIDATION))


if __name__ == "__main__":
    main()
