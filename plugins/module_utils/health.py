# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure logic of the deployment's health verdicts: error rates and service readiness."""

from __future__ import annotations

from collections import deque

# The options of both error-rate modules (doc fragment switchyard.bluegreen.error_rate).
ERROR_RATE_OPTIONS = dict(
    threshold_percent=dict(type="float", default=1.0),
    min_requests=dict(type="int", default=100),
    bake_seconds=dict(type="float", default=0),
    poll_seconds=dict(type="float", default=15),
    extend_seconds=dict(type="float", default=0),
)
MIN_POLL_SECONDS = 1.0


def undelivered(result, late):
    """The verdict on a window whose last buckets never arrived, `late` seconds after its end."""
    note = f"no metric for the end of the window {late} s after it"
    if result["verdict"] == "healthy":
        return dict(
            result,
            verdict="insufficient_data",
            reason=f"{note}, not even its target health: {result['reason']} so far is no verdict",
        )
    return dict(result, reason=f"{result['reason']} ({note}: counted as no requests)")


def poll_problem(poll_seconds):
    """Why a poll interval is refused (a tighter loop only burns API calls), or None."""
    if poll_seconds < MIN_POLL_SECONDS:
        return f"poll_seconds is {poll_seconds}: poll at most once a second (poll_seconds >= {MIN_POLL_SECONDS:g})"
    return None


def error_rate(requests, errors):
    """5xx share of requests in percent; None without requests (no traffic is not 0 %)."""
    if requests <= 0:
        return None
    return 100.0 * errors / requests


def judge(signals, threshold_percent, min_requests):
    """(verdict, reason) for what a colour's signals show so far.

    signals: requests, target_errors (5xx answered by its targets), lb_errors (5xx the load
    balancer answered itself for it), unhealthy_hosts (most of its targets failing health checks
    at once). An unhealthy target is a verdict on its own, whatever the traffic: a crashed colour
    may get too few requests to make a rate. Below min_requests a rate is noise (1 error in 10
    requests is 10 %): no verdict. The threshold itself is allowed: breached is strictly above.
    """
    if signals.get("unhealthy_hosts", 0) > 0:
        return "breached", f"{signals['unhealthy_hosts']} of its targets failed their health checks"
    requests = signals["requests"]
    if requests < min_requests:
        return "insufficient_data", f"{requests} requests, fewer than the {min_requests} needed to judge a rate"
    errors = signals["target_errors"] + signals.get("lb_errors", 0)
    rate = error_rate(requests, errors)
    if rate > threshold_percent:
        return "breached", (
            f"{round(rate, 3)} % of {requests} requests failed with 5xx ({signals['target_errors']} from its "
            f"targets, {signals.get('lb_errors', 0)} from the load balancer), above the {threshold_percent} % threshold"
        )
    return "healthy", f"{round(rate, 3)} % 5xx of {requests} requests"


def rate_report(signals, threshold_percent, min_requests, window_seconds, covered=True):
    """What the error-rate modules return for one measured window (covered: its data reaches the
    window's end; data that are late, as real ALB metrics are, do not)."""
    errors = signals["target_errors"] + signals.get("lb_errors", 0)
    rate = error_rate(signals["requests"], errors)
    verdict, reason = judge(signals, threshold_percent, min_requests)
    return dict(
        signals,
        lb_errors=signals.get("lb_errors", 0),
        unhealthy_hosts=signals.get("unhealthy_hosts", 0),
        errors=errors,
        rate_percent=None if rate is None else round(rate, 3),
        verdict=verdict,
        reason=reason,
        window_seconds=round(window_seconds, 1),
        covered=covered,
    )


def bake(measure, bake_seconds, poll_seconds, *, sleep, elapsed, lost=None, data_wait_seconds=0.0, extend_seconds=0.0):
    """Judge the first bake_seconds of a colour's traffic, on data that cover them.

    measure(window) judges the first `window` seconds (a dict with at least verdict, reason,
    covered and window_seconds); elapsed() is how long ago the window started; sleep is time.sleep
    (passed in so that the loop is tested without waiting). The result adds verdict_after_seconds,
    elapsed() when the verdict came. The loop:
      - stops early once the verdict is breached, or when lost() (asked after each measurement)
        gives a reason: the run lost its deployment lease, the verdict is "preempted";
      - after the bake, waits up to data_wait_seconds for metrics that cover the whole window
        (a bucket at or after its end, of any signal: a target group's health is published every
        period, requests only while they flow); then it judges: requests missing inside a covered
        window were none, and a window whose end never arrived is insufficient_data, never healthy;
      - with extend_seconds, an insufficient_data window is baked that much longer, once.
    """
    length = float(bake_seconds)
    extended = False
    while True:
        now = elapsed()
        # How long after the window's start the verdict came: the time to detect a bad release.
        result = dict(measure(min(now, length)), verdict_after_seconds=round(now, 1))
        reason = lost() if lost else None
        if reason:
            return dict(result, verdict="preempted", preempted=reason, reason=reason)
        if result["verdict"] == "breached":
            return result
        if now < length:
            sleep(max(min(poll_seconds, length - now), 0.0))
            continue
        late = now - length
        if not result["covered"]:
            if late < data_wait_seconds:
                sleep(max(min(poll_seconds, data_wait_seconds - late), 0.0))
                continue
            # The delay has passed: judge now. Requests missing from the window were none (a
            # load balancer publishes nothing for a quiet period), but a window whose end never
            # arrived at all, not even its target health (published every period), is never healthy.
            result = undelivered(result, round(late))
        if result["verdict"] == "insufficient_data" and extend_seconds and not extended:
            length += extend_seconds
            extended = True
            continue
        return dict(result, extended=extended)


class ProbeWindow:
    """The last `size` synthetic probes of a colour: breached when more than threshold_percent of
    a full window failed. A window, not a total: a colour that crashes after an hour of health is
    caught as fast as one that crashes at once."""

    def __init__(self, size, threshold_percent):
        self.size = size
        self.threshold_percent = threshold_percent
        self.outcomes = deque(maxlen=size)  # (ok, what it answered)
        self.sent = 0
        self.failed = 0

    def add(self, ok, answer):
        self.outcomes.append((ok, answer))
        self.sent += 1
        self.failed += 0 if ok else 1

    def breach(self):
        """A reason when the window is full and fails above the threshold, else None."""
        if len(self.outcomes) < self.size:
            return None
        failures = [answer for ok, answer in self.outcomes if not ok]
        if 100.0 * len(failures) / self.size <= self.threshold_percent:
            return None
        return f"{len(failures)} of the last {self.size} synthetic probes failed (last: {failures[-1]})"

    def judge(self, result):
        """result with the probes' counts, and breached when they breach."""
        result = dict(result, probes_sent=self.sent, probes_failed=self.failed)
        reason = self.breach()
        return dict(result, verdict="breached", reason=reason) if reason else result


def readiness_problems(service, expected_task_definition, healthy_targets):
    """Why an ECS service is not ready yet, as sentences; empty when it is.

    Ready: it runs the expected task definition, as many tasks run as are desired, no older
    deployment is still draining, and its target group has that many healthy targets.
    """
    problems = []
    desired = service["desiredCount"]
    if expected_task_definition and service["taskDefinition"] != expected_task_definition:
        problems.append(f"runs {service['taskDefinition']}, not {expected_task_definition}")
    if service["runningCount"] != desired:
        problems.append(f"{service['runningCount']} of {desired} tasks running")
    older = [d for d in service.get("deployments", []) if d.get("status") == "ACTIVE"]
    if older:
        problems.append(f"{len(older)} older deployment(s) still draining")
    if healthy_targets < desired:
        problems.append(f"{healthy_targets} of {desired} targets healthy")
    return problems
