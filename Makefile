# Thin front to `python -m coursetool`; the first run creates .venv and installs what it needs.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
SOURCE ?= source
OUT ?= .
SUBMISSIONS ?=
LAB ?=
ARGS ?=

# Real MNIST digits beside the checkout, when present, for tests and checks.
SHARED_MNIST := $(abspath ../shared/data/mnist-t10k-shuffled)
ifneq ($(wildcard $(SHARED_MNIST)/MNIST),)
export VAELAB_DATA ?= $(SHARED_MNIST)
endif

# nbgrader runs some of its tools (alembic) from PATH.
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: install release test test-fast test-kernels test-labs grade site handouts site-check

install: $(VENV)/.installed

# The instructors' set: the students' packages (helpers included) and the course tools.
$(VENV)/.installed: requirements.txt requirements-instructor.txt constraints.txt helpers/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-instructor.txt -c constraints.txt
	touch $@

# The check keeps the executed solutions in build/executed, where `make handouts` finds them.
release: install
	$(PY) -m coursetool build --source $(SOURCE) --out $(OUT)
	$(PY) -m coursetool check --source $(SOURCE) --out $(OUT) --keep-executed build/executed

TEST_ENV := VAELAB_QUICK=1 VAELAB_OFFLINE=1 MPLBACKEND=Agg

# Every test, in three tiers (markers registered in pyproject.toml).
test: install
	$(TEST_ENV) $(PY) -m pytest

# Unit tests only: nothing that starts a kernel or runs a lab.
test-fast: install
	$(TEST_ENV) $(PY) -m pytest -m "not slow"

# Tests that start kernels on the fixture labs and small notebooks (not the course's labs).
test-kernels: install
	$(TEST_ENV) $(PY) -m pytest -m "kernels"

# The course's own labs, run whole: the check and the grader on every lab, plain nbgrader on lab 1.
test-labs: install
	$(TEST_ENV) $(PY) -m pytest -m "labs"

grade: install
	@test -n "$(SUBMISSIONS)" -a -n "$(LAB)" || { echo "usage: make grade SUBMISSIONS=<folder or zip> LAB=<name>"; exit 2; }
	$(PY) -m coursetool grade "$(SUBMISSIONS)" --lab "$(LAB)" $(ARGS)

# The course website (student pages, no solutions) in site/, from the sources; nothing is executed.
site: install
	$(PY) -m coursetool site --source $(SOURCE) --out site

# The teaching team's executed solutions in handouts/: reuses what `coursetool check --keep-executed
# build/executed` kept when still fresh, runs the others once in quick mode.
handouts: install
	VAELAB_QUICK=1 VAELAB_OFFLINE=1 $(PY) -m coursetool handouts --source $(SOURCE) --out handouts --executed build/executed

# Look at what `make site` and `make handouts` built, in headless Chromium where it is installed.
site-check: install
	COURSETOOL_SITE=site COURSETOOL_HANDOUTS=handouts VAELAB_QUICK=1 VAELAB_OFFLINE=1 MPLBACKEND=Agg \
		$(PY) -m pytest -q tests/site/test_built_site.py
