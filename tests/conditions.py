"""What a test needs of the machine, checked only when the test is about to run, never while collecting.

Mark a test ``@pytest.mark.needs_sandbox`` (bwrap can make its namespaces here) or
``@pytest.mark.needs_cgroup("memory")`` (the grader may create a group of that controller);
either takes ``reason=`` for the skip message. The checks start processes (bwrap, a probe in a
new cgroup), so a test deselected by ``-m`` never causes one. The test tiers (``kernels``, ``labs``)
are ``slow`` too, so that ``-m "not slow"`` keeps to tests that start no kernel.
"""
from __future__ import annotations

import pytest

TIERS = ("kernels", "labs")


def sandbox_missing() -> str | None:
    """Why no test can grade in the sandbox here, or None where it can."""
    from coursetool.grade.kernel.sandbox import bwrap_works, why_no_sandbox
    return None if bwrap_works() else f"grading needs a sandbox, and none can be made here: {why_no_sandbox()}"


def cgroup_missing(controller: str) -> str | None:
    """Why no kernel can get a group of ``controller`` here, or None where it can."""
    from coursetool.grade.kernel import limits as kernel_limits
    return None if controller in kernel_limits.group_parents() else f"no {controller} cgroup can be created here"


def unmet_need(item: pytest.Item) -> str | None:
    """The first of the item's needs this machine does not meet, as a skip reason; None if it meets them all."""
    for mark in item.iter_markers("needs_sandbox"):
        missing = sandbox_missing()
        if missing:
            return mark.kwargs.get("reason", missing)
    for mark in item.iter_markers("needs_cgroup"):
        if not mark.args:
            raise pytest.UsageError(f"{item.nodeid}: needs_cgroup names a controller, e.g. needs_cgroup('memory')")
        missing = cgroup_missing(mark.args[0])
        if missing:
            return mark.kwargs.get("reason", missing)
    return None


def add_slow_to_tiers(items: list[pytest.Item]) -> None:
    """Every test of a tier is also ``slow``; a test marked only ``slow`` counts as ``kernels``."""
    for item in items:
        tiers = [tier for tier in TIERS if item.get_closest_marker(tier)]
        if tiers:
            item.add_marker(pytest.mark.slow)
        elif item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.kernels)
