# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of ecs_migration_run: on the controller, the module runs in Ansible's own process
(plugin_utils/in_process.py)."""

from __future__ import annotations

from ansible_collections.switchyard.bluegreen.plugins.modules import ecs_migration_run
from ansible_collections.switchyard.bluegreen.plugins.plugin_utils.in_process import InProcessAction


class ActionModule(InProcessAction):
    MODULE = ecs_migration_run
