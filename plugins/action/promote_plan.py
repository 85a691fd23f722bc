# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of promote_plan: the settings are checked in Ansible's own process.

The check is pure Python (module_utils/core/settings.py) and reads nothing on the managed node,
so it never pays a module's start-up (a payload, a new Python, imports from a zip).
"""

from __future__ import annotations

from ansible.plugins.action import ActionBase
from ansible_collections.switchyard.bluegreen.plugins.modules.promote_plan import ARGUMENT_SPEC, plan


class ActionModule(ActionBase):
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _valid, params = self.validate_argument_spec(ARGUMENT_SPEC)
        return dict(result, **plan(params))
