#!/usr/bin/python
# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: alb_error_rate_info
short_description: Judge a target group under production traffic from the ALB's CloudWatch metrics
version_added: 0.1.0
description:
  - Reads, in one C(GetMetricData) call (no metric math), what the load balancer reports about one
    target group since a start time - C(RequestCount), C(HTTPCode_Target_5XX_Count),
    C(TargetConnectionErrorCount), C(UnHealthyHostCount) - and the load balancer's own
    C(HTTPCode_ELB_5XX_Count), and judges them against a threshold that needs a minimum number of
    requests. Any unhealthy target is a breach.
  - The load balancer's own 5xx exist only per load balancer. They are all counted against the
    colour being judged, also while traffic is split - the colour that was live before the switch
    was healthy, so a rise belongs to the new one; the price is a possible needless rollback,
    never a bad release waved through.
  - With I(bake_seconds) it judges the first I(bake_seconds) of traffic, returning early on
    C(breached). ALB metrics come in buckets of I(period_seconds) and arrive late, so after the
    bake it waits up to I(data_wait_seconds) for buckets that cover the whole window, that is a
    bucket of the window's end, or any later one, of any signal (a target group's health is
    published every period, its requests only while they flow). A load balancer publishes no datapoint for a
    period without requests, so a request count missing inside a covered window counts as no
    requests; a window with fewer than O(min_requests) requests is C(insufficient_data), and so
    is one whose end never arrived, never C(healthy).
  - With O(probe), it also sends synthetic probes straight at the colour (through the test
    listener, which forwards only to the colour being baked) while it bakes, and breaches as soon
    as too many of the last probes fail - seconds after a crash, where the metrics take minutes.
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
  period_seconds:
    description:
      - Bucket length of the metrics. ALB metrics are published per 60 s; a shorter period only
        suits an emulator's harness.
    type: int
    default: 60
  data_wait_seconds:
    description:
      - After the bake, how long to wait for late metrics that cover the window. AWS publishes an
        ALB minute a minute or more after it ends.
    type: float
    default: 180
  probe:
    description:
      - Synthetic probes while baking. The machine that runs the module must reach O(probe.url).
    type: dict
    suboptions:
      url:
        description: What to request, for example C(http://<load balancer>:<test listener port>/healthz).
        type: str
        required: true
      rate_per_second:
        description: Probes per second.
        type: float
        default: 2
      window:
        description: How many of the last probes are judged together.
        type: int
        default: 10
      failure_threshold_percent:
        description: Share of failed probes in a full window above which the verdict is C(breached).
        type: float
        default: 50
      timeout_seconds:
        description: A probe unanswered this long fails.
        type: float
        default: 2
extends_documentation_fragment:
  - switchyard.bluegreen.error_rate
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Judge green over the first 5 minutes after the switch
  switchyard.bluegreen.alb_error_rate_info:
    load_balancer_arn_suffix: "{{ deployment.load_balancer_arn_suffix }}"
    target_group_arn_suffix: "{{ deployment.target_group_arn_suffixes.green }}"
    since: "{{ switched_at }}"
    bake_seconds: 300
    poll_seconds: 15
    threshold_percent: 1
  register: rate
"""

RETURN = r"""
requests:
  description: Requests the target group received in the window.
  returned: always
  type: int
  sample: 1200
target_errors:
  description: 5xx answered by its targets.
  returned: always
  type: int
  sample: 3
lb_errors:
  description: 5xx the load balancer answered itself (502/503/504), counted against this colour.
  returned: always
  type: int
  sample: 0
connection_errors:
  description: Requests for which the load balancer could not connect to one of its targets.
  returned: always
  type: int
  sample: 0
unhealthy_hosts:
  description: Most of its targets unhealthy at once during the window.
  returned: always
  type: int
  sample: 0
errors:
  description: The 5xx counted against it, target_errors + lb_errors.
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
reason:
  description: The verdict in a sentence.
  returned: always
  type: str
  sample: 0.25 % 5xx of 1200 requests
window_seconds:
  description: Length of the judged window.
  returned: always
  type: float
  sample: 60.0
covered:
  description: Whether the metrics that arrived reach the end of the window.
  returned: always
  type: bool
  sample: true
extended:
  description: Whether an C(insufficient_data) window was baked O(extend_seconds) longer.
  returned: when the window was judged to its end
  type: bool
  sample: false
probes_sent:
  description: Synthetic probes sent (with O(probe)).
  returned: when probing
  type: int
  sample: 120
probes_failed:
  description: Synthetic probes that failed (5xx, or no answer).
  returned: when probing
  type: int
  sample: 0
verdict_after_seconds:
  description: How long after the window's start the verdict came (for a breach, the time to detect it).
  returned: always
  type: float
  sample: 75.5
preempted:
  description: Why the bake ended early with the verdict C(preempted) (the run lost its deployment lease).
  returned: when the verdict is C(preempted)
  type: str
  sample: promote lost the deployment lease of production to a rollback
"""

import math
import time
from datetime import datetime, timezone

from ansible.module_utils.urls import open_url
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.switchyard.bluegreen.plugins.module_utils.aws import (
    alb_signals,
    client,
)
from ansible_collections.switchyard.bluegreen.plugins.module_utils.core.lease import LeaseError
from ansible_collections.switchyard.bluegreen.plugins.module_utils.fence import WATCHED_LEASE_OPTION, lease_watcher
from ansible_collections.switchyard.bluegreen.plugins.module_utils.health import (
    ERROR_RATE_OPTIONS,
    ProbeWindow,
    bake,
    poll_problem,
    rate_report,
)


def measure(cloudwatch, params, window, now=None):
    """The verdict on the first `window` seconds after since, from the buckets that arrived."""
    period = params["period_seconds"]
    since = params["since"]
    until = since + window
    # Whole buckets: the one that holds the start to the one that holds the end, counted; read up
    # to the one that holds now, which tells whether the window's end was delivered.
    start = since - since % period
    end = max(math.ceil(until / period) * period, start + period)
    now = time.time() if now is None else now
    read_to = max(end, now - now % period + period)
    # The load balancer's own 5xx exist per load balancer only: in the bucket that holds the
    # switch they may be the other colour's (a release that replaces a crashed one), so they are
    # counted from the first bucket that starts after it.
    per_lb_from = start if start == since else start + period
    signals, latest = alb_signals(
        cloudwatch,
        params["load_balancer_arn_suffix"],
        params["target_group_arn_suffix"],
        start=datetime.fromtimestamp(start, tz=timezone.utc),
        end=datetime.fromtimestamp(read_to, tz=timezone.utc),
        until=datetime.fromtimestamp(end, tz=timezone.utc),
        period=period,
        per_lb_from=datetime.fromtimestamp(per_lb_from, tz=timezone.utc),
    )
    covered = latest is not None and latest.timestamp() + period >= until
    # A crashed target's requests are the load balancer's 502s: count them once.
    signals["lb_errors"] = max(signals["lb_errors"], signals["connection_errors"])
    return rate_report(signals, params["threshold_percent"], params["min_requests"], window, covered)


def probe_once(probe):
    """(ok, what it answered): a 5xx or no answer fails."""
    try:
        response = open_url(probe["url"], timeout=probe["timeout_seconds"], validate_certs=False)
        return True, str(response.status)
    except Exception as e:  # noqa: BLE001 - any failure to answer is a failed probe, named
        status = getattr(e, "code", None)
        if status is not None and status < 500:
            return True, str(status)  # answered: not a crash, the metrics judge its errors
        return False, str(status or type(e).__name__)


def probing_sleep(probe, window):
    """A sleep that probes at the probe's rate, and ends early once the probes breach."""

    def sleep(seconds):
        end = time.time() + seconds
        while time.time() < end and not window.breach():
            window.add(*probe_once(probe))
            time.sleep(max(min(1.0 / probe["rate_per_second"], end - time.time()), 0.0))

    return sleep


def as_measured(result):
    """Without probes, the metrics' verdict stands."""
    return result


def main():
    argument_spec = dict(
        load_balancer_arn_suffix=dict(type="str", required=True),
        target_group_arn_suffix=dict(type="str", required=True),
        since=dict(type="float", required=True),
        period_seconds=dict(type="int", default=60),
        data_wait_seconds=dict(type="float", default=180),
        lease=WATCHED_LEASE_OPTION,
        probe=dict(
            type="dict",
            options=dict(
                url=dict(type="str", required=True),
                rate_per_second=dict(type="float", default=2),
                window=dict(type="int", default=10),
                failure_threshold_percent=dict(type="float", default=50),
                timeout_seconds=dict(type="float", default=2),
            ),
        ),
        **ERROR_RATE_OPTIONS,
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    problem = poll_problem(params["poll_seconds"])
    probe = params["probe"]
    if probe and not 0 < probe["rate_per_second"] <= 20:
        problem = f"probe.rate_per_second is {probe['rate_per_second']}: give more than 0 and at most 20."
    if probe and probe["window"] < 1:
        problem = f"probe.window is {probe['window']}: judge at least 1 probe."
    if problem:
        module.fail_json(msg=problem)
    try:
        cloudwatch = client(module, "cloudwatch")
        lost = lease_watcher(params["lease"], lambda: client(module, "dynamodb"))
        judge, sleep = as_measured, time.sleep
        if probe:
            probes = ProbeWindow(probe["window"], probe["failure_threshold_percent"])
            judge, sleep = probes.judge, probing_sleep(probe, probes)
        result = bake(
            lambda window: judge(measure(cloudwatch, params, window)),
            params["bake_seconds"],
            params["poll_seconds"],
            sleep=sleep,
            elapsed=lambda: time.time() - params["since"],
            lost=lost,
            data_wait_seconds=params["data_wait_seconds"],
            extend_seconds=params["extend_seconds"],
        )
    except LeaseError as e:
        module.fail_json(msg=str(e))
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
