# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filter rollback_plan: core.rollback.plan_rollback, the one decision of "send production
back" (alb_rollback and the guard's Lambda call the same function), in the controller's process."""

from __future__ import annotations

from ansible_collections.switchyard.bluegreen.plugins.module_utils.core.rollback import plan_rollback


def rollback_plan(journal, production_weights, colours, records=None, asked=None):
    return plan_rollback(journal or {}, production_weights or {}, colours or {}, records, asked or None).as_dict()


class FilterModule:
    def filters(self):
        return {"rollback_plan": rollback_plan}
