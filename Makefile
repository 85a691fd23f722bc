# switchyard: the entry points. Each target does its own set-up on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV         := .venv
CHECKOV_VENV := .venv-checkov
BIN          := $(VENV)/bin
PYTHON_BASE  ?= python3

export TF_CLI_CONFIG_FILE := $(CURDIR)/.cache/terraform.tfrc
export ANSIBLE_CONFIG     := $(CURDIR)/ansible.cfg
export PATH               := $(CURDIR)/$(BIN):$(PATH)

TF_ROOTS   := $(wildcard infrastructure/environments/*)
COLLECTION := .collections/ansible_collections/switchyard/bluegreen
# The workers of make unit and make test (tests/conftest.py splits the files into as many groups).
TEST_WORKERS ?= 2
# The tests that need no emulator, no Terraform and no service: plugins' and modules' contracts with
# stubbed clients, pure decisions, the harness's logic, workflow and policy documents.
UNIT_TESTS := tests/unit tests/test_collection.py tests/test_image_policy.py tests/test_locks.py \
	tests/infrastructure/test_workflows.py tests/infrastructure/test_module_readmes.py \
	tests/infrastructure/test_deploy_policy.py tests/infrastructure/test_database_protection.py

.PHONY: help setup deploy-setup locks demo test unit lint sandbox-up sandbox-down sandbox-reset build

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

setup: $(VENV)/.installed $(TF_CLI_CONFIG_FILE) $(COLLECTION) ## create the virtualenv, Terraform CLI config and collection link

$(VENV)/.installed: requirements.txt requirements-deploy.txt
	$(PYTHON_BASE) -m venv $(VENV)
	@# The runtime first, from the hashed lock the deploy jobs install: the tests run what deploys.
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements-deploy.txt
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

deploy-setup: ## the deploy jobs' set-up: the runtime only, every file checked against requirements-deploy.txt's hashes
	$(PYTHON_BASE) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements-deploy.txt
	$(MAKE) $(TF_CLI_CONFIG_FILE) $(COLLECTION)

locks: setup ## regenerate requirements-deploy.txt and app/requirements.lock (hashed) at the versions installed here
	$(PYTHON_BASE) -m venv .cache/pip-tools && .cache/pip-tools/bin/pip install --quiet pip-tools==7.7.0
	$(BIN)/pip freeze --exclude-editable > .cache/tested.txt
	grep -E '^(ansible|boto3|botocore)==' requirements.txt | sed 's/ *#.*//' > .cache/deploy.in
	grep -v '^#' app/requirements.txt > .cache/app.in
	for lock in requirements-deploy.txt:.cache/deploy.in app/requirements.lock:.cache/app.in; do \
	  .cache/pip-tools/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-header \
	    --no-annotate --no-emit-index-url --no-emit-find-links -c .cache/tested.txt \
	    -o .cache/lock.txt "$${lock#*:}" && \
	  { sed -n '/^#/p' "$${lock%%:*}"; cat .cache/lock.txt; } > .cache/lock.new && mv .cache/lock.new "$${lock%%:*}"; \
	done

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	$(PYTHON_BASE) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet -r requirements-checkov.txt
	touch $@

$(TF_CLI_CONFIG_FILE): scripts/terraform-cli-config.sh
	scripts/terraform-cli-config.sh $@

# The checkout is the collection: link it where ansible.cfg's collections_path looks.
$(COLLECTION):
	mkdir -p $(dir $@)
	ln -sfn ../../.. $@

sandbox-up: setup ## start the AWS API emulator (idempotent) and print its endpoint
	@PYTHON=$(BIN)/python sandbox/sandbox.sh up

sandbox-down: ## stop the emulator started by sandbox-up
	@sandbox/sandbox.sh down

sandbox-reset: sandbox-up ## empty the emulator and the sandbox's local Terraform state
	@sandbox/sandbox.sh reset

demo: sandbox-up ## on a fresh sandbox: provision, promote v1 and v2, a faulty v3 rolled back, a manual rollback
	@scripts/demo.sh

unit: setup ## the fast loop: every test that needs no emulator, Terraform or service (under a minute)
	@# Every migration declares expand or contract, and no expand one drops, renames or tightens.
	cd app && $(CURDIR)/$(BIN)/python -m switchyard_app.migrate lint migrations
	@# ansible-test sanity (20 s and more) runs in make test, not in the fast loop.
	$(BIN)/pytest -q -n $(TEST_WORKERS) $(UNIT_TESTS) --deselect tests/test_collection.py::test_every_ansible_test_sanity_test_passes

test: setup lint ## lint, then every test (unit, Terraform, sandbox end to end), in two workers
	@# Each worker runs its own group of test files (tests/conftest.py: worker_groups) with its own
	@# emulator, harness and stack; the ten slowest tests are listed at the end. The order is new
	@# every run (pytest-randomly; to replay one: PYTEST_ADDOPTS=--randomly-seed=<the printed seed>).
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup --durations=10

lint: setup $(CHECKOV_VENV)/.installed ## ruff, yamllint, ansible-lint, migrations, workflows (schema, zizmor), terraform fmt, checkov
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/yamllint --strict .
	$(BIN)/ansible-lint --profile production
	@# Every migration declares expand or contract, and no expand one drops, renames or tightens.
	cd app && $(CURDIR)/$(BIN)/python -m switchyard_app.migrate lint migrations
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(BIN)/zizmor --offline .github
	terraform fmt -check -recursive infrastructure
	$(CHECKOV_VENV)/bin/checkov --quiet --compact --skip-download --framework terraform -d infrastructure

build: setup ## build the collection tarball
	$(BIN)/ansible-galaxy collection build --force
