# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options of the modules that read HAProxy's runtime API (the development environment's traffic layer)."""


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  socket:
    description:
      - Path of HAProxy's admin socket (C(stats socket ... level admin)), the deployment
        contract's C(socket).
    type: path
    required: true
  production_backend:
    description:
      - Backend behind the production frontend. Each colour is a server of its name in it.
    type: str
    default: app
"""
