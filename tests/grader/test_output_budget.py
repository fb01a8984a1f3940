"""Output limits: every message counts against its cell's share and the notebook's (no kernel)."""
from __future__ import annotations

from coursetool.grade.kernel.runner import OutputBudget, payload_size
from coursetool.grade.settings import Limits


def budget(per_cell: int, notebook: int) -> OutputBudget:
    return OutputBudget(Limits(output_chars=per_cell, notebook_output_chars=notebook))


def test_a_cell_keeps_output_up_to_its_share_and_no_more():
    cells = budget(per_cell=10, notebook=100)
    assert cells.take(0, 6) and cells.take(0, 4)
    assert not cells.take(0, 1)


def test_a_refused_message_still_counts_so_later_small_ones_are_refused_too():
    cells = budget(per_cell=10, notebook=100)
    assert not cells.take(0, 50)
    assert not cells.take(0, 1)  # the cell already asked for more than its share


def test_cells_have_shares_of_their_own():
    cells = budget(per_cell=10, notebook=100)
    assert cells.take(0, 10) and cells.take(1, 10)


def test_the_notebook_limit_holds_across_cells():
    cells = budget(per_cell=10, notebook=15)
    assert cells.take(0, 10)
    assert not cells.take(1, 6)  # within its cell's share, beyond what the notebook has left
    assert cells.take(2, 5)
    assert not cells.take(3, 1)


def test_a_message_counts_by_its_encoded_data_and_text():
    small = {"data": {"text/plain": "x"}}
    large = {"data": {"text/plain": "x", "image/png": "A" * 1000}}
    assert payload_size(large) - payload_size(small) >= 1000
    assert payload_size({"text": "abc", "metadata": {"ignored": "y" * 1000}}) < 100
    assert payload_size({"evalue": "e" * 500, "traceback": ["t" * 500]}) >= 1000
