# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    # What a run read once under its lease (alb_bluegreen_info), so the ECS modules do not read it again.
    DOCUMENTATION = r"""
options:
  known_revisions:
    description:
      - Revisions already read, as M(switchyard.bluegreen.alb_bluegreen_info) returns them
        (RV(switchyard.bluegreen.alb_bluegreen_info#module:revisions)), each with its O(known_revisions[].arn),
        O(known_revisions[].revision), registrable O(known_revisions[].body) and O(known_revisions[].tags).
      - A revision never changes once registered, so one named here by its ARN is not described again.
    type: list
    elements: dict
    default: []
    suboptions:
      arn:
        description: The revision's ARN.
        type: str
        required: true
      revision:
        description: Its revision number.
        type: int
        required: true
      body:
        description: Its registrable fields.
        type: dict
        required: true
      tags:
        description: Its tags (C(key), C(value)), which a new revision copied from it gets.
        type: list
        elements: dict
        default: []
"""

    # The service's fields, for the ECS modules (switchyard.bluegreen.known_state.service).
    SERVICE = r"""
options:
  known_service:
    description:
      - The service as this run read it while holding the deployment lease
        (RV(switchyard.bluegreen.alb_bluegreen_info#module:services) of its colour), so it is not
        described again. Only runs that hold the lease change a service, and O(lease) checks that
        the run still holds it right before the write; give it only when no write of this run
        changed the service since it was read.
      - Without it the service is described.
    type: dict
"""
