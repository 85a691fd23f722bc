# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options of the error-rate modules: the verdict and the bake loop, the same for ALB and HAProxy."""


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  threshold_percent:
    description:
      - 5xx share of requests, in percent, above which the verdict is C(breached). The threshold
        itself is allowed.
    type: float
    default: 1.0
  min_requests:
    description:
      - Fewer requests than this in the window give the verdict C(insufficient_data) (a rate of
        a handful of requests is noise).
    type: int
    default: 100
  bake_seconds:
    description:
      - Keep measuring until the window is this long, and return as soon as the verdict is
        C(breached). C(0) measures once.
    type: float
    default: 0
  poll_seconds:
    description: Seconds between measurements while baking; at least 1.
    type: float
    default: 15
  extend_seconds:
    description:
      - When the window ends with the verdict C(insufficient_data), bake this much longer, once,
        before returning it (the C(extend) policy of the watch role). C(0) does not extend.
    type: float
    default: 0
  lease:
    description:
      - The deployment lease of the run that bakes. After each measurement the module checks that
        the run still holds it with O(lease.token); when another run (a rollback) has taken it, the
        bake ends at once with the verdict C(preempted) and the reason in RV(preempted).
    type: dict
    suboptions:
      table:
        description: The DynamoDB table of the lease (AWS).
        type: str
      path:
        description: The lock file of the lease (development).
        type: path
      environment:
        description: The environment whose lease it is.
        type: str
        required: true
      token:
        description: The run's fencing token.
        type: int
        required: true
"""
