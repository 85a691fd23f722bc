# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of alb_rollback: on the controller, the rollback runs in Ansible's own process
(plugin_utils/in_process.py), the same code as the module (module_utils/warm_rollback.py), timed
from the task's start. Like the module, it does not run async."""

from __future__ import annotations

from ansible_collections.switchyard.bluegreen.plugins.module_utils import warm_rollback
from ansible_collections.switchyard.bluegreen.plugins.modules import alb_rollback
from ansible_collections.switchyard.bluegreen.plugins.plugin_utils.in_process import InProcessAction


class ActionModule(InProcessAction):
    MODULE = alb_rollback
    _supports_async = False

    def execute(self, module, started):
        warm_rollback.execute(module, started)
