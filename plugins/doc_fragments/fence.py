# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    # The lease option of every module that changes a listener, a service or starts a task.
    DOCUMENTATION = r"""
options:
  lease:
    description:
      - The deployment lease of the run that makes the change (a fencing token). Right before it
        writes, in the same process, the module renews the lease with one conditional write that
        holds only while the run still holds it with O(lease.token), carrying the run's journal
        (O(lease.phase), O(lease.details)). When another run (a rollback) has taken it, the module
        fails with RV(lost) and changes nothing.
      - Without it the module checks no lease.
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
      lease_seconds:
        description: How long the renewed lease lives without another heartbeat.
        type: int
        default: 900
      phase:
        description: The run's phase, journalled with the renewal.
        type: str
      details:
        description: What the run works on, merged into the lease's details (secrets redacted).
        type: dict
        default: {}
"""
