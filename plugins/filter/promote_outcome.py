# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filter promote_outcome: core.promote.outcome, how a promote that did not go live ended."""

from __future__ import annotations

from ansible_collections.switchyard.bluegreen.plugins.module_utils.core.promote import outcome


def promote_outcome(failed_result, switch_outcome=None, first=None):
    return outcome(failed_result, switch_outcome or None, first or None)


class FilterModule:
    def filters(self):
        return {"promote_outcome": promote_outcome}
