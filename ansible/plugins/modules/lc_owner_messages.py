# -*- coding: utf-8 -*-
# connections.dr.lc_owner_messages runs on the controller: the work is done by the action plugin
# plugins/action/lc_owner_messages.py, and the documentation is lc_owner_messages.yml beside this
# file. Nothing here runs.
from __future__ import annotations
