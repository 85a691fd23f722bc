# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filter schema_refusal: module_utils/core/schema.py's rule, in the controller's process."""

from __future__ import annotations

from ansible_collections.switchyard.bluegreen.plugins.module_utils.core.schema import schema_refusal


class FilterModule:
    def filters(self):
        return {"schema_refusal": lambda image, records: schema_refusal(image, records or []) or ""}
