"""Unit tests import the collection as Ansible does: ansible_collections.switchyard.bluegreen."""

import sys

from tests.conftest import REPO

sys.path.insert(0, str(REPO / ".collections"))
