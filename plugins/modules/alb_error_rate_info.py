#!/usr/bin/python
# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: alb_error_rate_info
short_description: Measure a target group's 5xx rate from the ALB's CloudWatch metrics
version_added: 0.1.0
description:
  - Sums C(RequestCount) and C(HTTPCode_Target_5XX_Count) of one target group since a start
    time and computes the 5xx share of requests in code (no metric math), with a verdict
    against a threshold that needs a minimum number of requests.
  - With I(bake_seconds) it keeps measuring until the window since I(since) is that long, and
    returns early when the verdict is C(breached).
  - Read-only; never reports a change.
author:
  - switchyard contributors (@switchyard)
options:
  load_balancer_arn_suffix:
    description: The C(LoadBalancer) dimension, C(app/<name>/<id>).
    type: str
    required: true
  target_group_arn_suffix:
    description: The C(TargetGroup) dimension, C(targetgroup/<name>/<id>).
    type: str
    required: true
  since:
    description: Start of the window, in seconds since the epoch (for example the switch time).
    type: float
    required: true
extends_documentation_fragment:
  - switchyard.bluegreen.error_rate
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: 5xx rate of green since the switch
  switchyard.bluegreen.alb_error_rate_info:
    load_balancer_arn_suffix: "{{ deployment.load_balancer_arn_suffix }}"
    target_group_arn_suffix: "{{ deployment.target_group_arn_suffixes.green }}"
    since: "{{ switched_at }}"
    threshold_percent: 1
  register: rate
"""

RETURN = r"""
requests:
  description: Requests the target group received in the window.
  returned: always
  type: int
  sample: 1200
errors:
  description: 5xx responses from its targets in the window.
  returned: always
  type: int
  sample: 3
rate_percent:
  description: errors / requests in percent; null when there were no requests.
  returned: always
  type: float
  sample: 0.25
verdict:
  description: C(breached), C(healthy), C(insufficient_data), or C(preempted) (see O(lease)).
  returned: always
  type: str
  sample: healthy
window_seconds:
  description: Length of the measured window.
  returned: always
  type: float
  sample: 60.0
preempted:
  description: Why the bake ended early with the verdict C(preempted) (the run lost its deployment lease).
  returned: when the verdict is C(preempted)
  type: str
  sample: promote lost the deployment lease of production to a rollback
"""

import time
from datetime import datetime, timedelta, timezone

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.switchyard.bluegreen.plugins.module_utils.aws import (
    client,
    metric_sum,
)
from ansible_collections.switchyard.bluegreen.plugins.module_utils.health import (
    bake,
    rate_report,
)
from ansible_collections.switchyard.bluegreen.plugins.module_utils.lease import LeaseError, lease_watcher


def measure(cloudwatch, params):
    """One measurement of the window [since, now]: the values the module returns."""
    dimensions = [
        {"Name": "LoadBalancer", "Value": params["load_balancer_arn_suffix"]},
        {"Name": "TargetGroup", "Value": params["target_group_arn_suffix"]},
    ]
    now = time.time()
    start = datetime.fromtimestamp(params["since"], tz=timezone.utc)
    # CloudWatch wants a window of at least one period; the metrics of the future are empty.
    end = max(datetime.fromtimestamp(now, tz=timezone.utc), start + timedelta(seconds=60))
    requests = metric_sum(cloudwatch, "RequestCount", dimensions, start, end)
    errors = metric_sum(cloudwatch, "HTTPCode_Target_5XX_Count", dimensions, start, end)
    return rate_report(requests, errors, params["threshold_percent"], params["min_requests"], now - params["since"])


def main():
    argument_spec = dict(
        load_balancer_arn_suffix=dict(type="str", required=True),
        target_group_arn_suffix=dict(type="str", required=True),
        since=dict(type="float", required=True),
        threshold_percent=dict(type="float", default=1.0),
        min_requests=dict(type="int", default=100),
        bake_seconds=dict(type="float", default=0),
        poll_seconds=dict(type="float", default=15),
        lease=dict(
            type="dict",
            options=dict(
                table=dict(type="str"),
                path=dict(type="path"),
                environment=dict(type="str", required=True),
                token=dict(type="int", required=True, no_log=False),  # a fencing number, not a secret
            ),
        ),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    try:
        cloudwatch = client(module, "cloudwatch")
        lost = lease_watcher(params["lease"], lambda: client(module, "dynamodb"))
        result = bake(
            lambda: measure(cloudwatch, params), params["bake_seconds"], params["poll_seconds"], time.sleep, lost
        )
    except LeaseError as e:
        module.fail_json(msg=str(e))
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
