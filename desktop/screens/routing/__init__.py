"""Routing: the supervisor writes the rules that decide where orders ship, simulates them and saves them.

Split by job: ``setup`` (the data the screen shows, read on the worker), ``rule_list``, ``rule_form``,
``simulation`` and ``screen``, which puts them together.
"""

from desktop.screens.routing.screen import RoutingScreen
from desktop.screens.routing.setup import proposed_rules

__all__ = ["RoutingScreen", "proposed_rules"]
