# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure logic of the deployment's health verdicts: error rates and service readiness."""

from __future__ import annotations


def error_rate(requests, errors):
    """5xx share of requests in percent; None without requests (no traffic is not 0 %)."""
    if requests <= 0:
        return None
    return 100.0 * errors / requests


def bake_verdict(requests, errors, threshold_percent, min_requests):
    """One of "breached", "healthy" or "insufficient_data" for a bake window so far.

    Below min_requests a rate is noise (1 error in 10 requests is 10 %): no verdict yet.
    The threshold itself is allowed: breached means strictly above it.
    """
    if requests < min_requests:
        return "insufficient_data"
    rate = error_rate(requests, errors)
    return "breached" if rate > threshold_percent else "healthy"


def rate_report(requests, errors, threshold_percent, min_requests, window_seconds):
    """What the error-rate modules return for one measured window."""
    rate = error_rate(requests, errors)
    return dict(
        requests=requests,
        errors=errors,
        rate_percent=None if rate is None else round(rate, 3),
        verdict=bake_verdict(requests, errors, threshold_percent, min_requests),
        window_seconds=round(window_seconds, 1),
    )


def bake(measure, bake_seconds, poll_seconds, sleep, lost=None):
    """Measure until the window is bake_seconds long; stop early once the verdict is breached.

    measure() returns a dict with at least "verdict" and "window_seconds"; sleep is time.sleep
    (passed in so that the loop is tested without waiting). lost(), when given, is asked after
    each measurement: a reason (the run lost its deployment lease) ends the bake at once with the
    verdict "preempted" and that reason.
    """
    while True:
        result = measure()
        reason = lost() if lost else None
        if reason:
            return dict(result, verdict="preempted", preempted=reason)
        if result["verdict"] == "breached" or result["window_seconds"] >= bake_seconds:
            return result
        sleep(min(poll_seconds, bake_seconds - result["window_seconds"]))


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
