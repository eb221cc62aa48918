# websocket.nginx: the two commands a new user needs are "make demo" and "make test".
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV := $(CURDIR)/.venv
# make compat: the lowest ansible-core the collection claims (requirements-ansible-2.17.txt).
COMPAT_VENV := $(CURDIR)/.venv-ansible-2.17
export PATH := $(VENV)/bin:$(PATH)
export ANSIBLE_FORCE_COLOR := 0
export PY_COLORS := 0
export ANSIBLE_NOCOLOR := 1
export NO_COLOR := 1
MOLECULE_SCENARIOS ?= default cluster fleet
DEMO_PORT ?= 8080
DEMO_TLS_PORT ?= 8443
DEMO_PORTS := WSN_DEMO_PORT=$(DEMO_PORT) WSN_DEMO_TLS_PORT=$(DEMO_TLS_PORT)

.PHONY: help setup venv docker test-tools demo demo-destroy test checks lint unit role-docs roles-check build-check sanity compat molecule bench bench-versus bench-fleet clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

venv: ## Python >= 3.12 virtualenv with the pinned requirements
	@scripts/setup-venv.sh

docker: ## Docker engine running and local Debian 12/13 images built
	@scripts/setup-docker.sh

test-tools: ## Host tools the tests use for real: nginx (nginx -T parsing), shellcheck, chromium + chromedriver
	@scripts/setup-test-tools.sh

setup: venv docker

demo: setup ## Deploy the demo (proxy + 2 backends in containers) and echo through it
	$(DEMO_PORTS) molecule create -s demo
	$(DEMO_PORTS) molecule converge -s demo
	python scripts/demo_echo.py --port $(DEMO_PORT) --tls-port $(DEMO_TLS_PORT) --ca .cache/demo-pki/ca.pem

demo-destroy: venv ## Remove the demo containers
	$(DEMO_PORTS) molecule destroy -s demo

# make unit's and make roles-check's tests.
UNIT_TESTS := tests/unit tests/tooling tests/demo
ROLE_TESTS := tests/roles tests/compat

# The molecule scenarios (containers, mostly waiting: about half of the two cores idle in each) run beside each
# other and beside the checks, which use the cores themselves (pytest with -n 2). Each target's output is printed
# whole when it ends (--output-sync): the checks' as each one ends, each scenario's at its end.
test: setup test-tools ## The whole suite: lint, unit, role validation, build, sanity, ansible-core 2.17, molecule
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory -j$(words checks $(MOLECULE_SCENARIOS)) --output-sync=target checks \
		$(addprefix molecule-,$(MOLECULE_SCENARIOS)); \
	echo "make test: all passed in $$(( $$(date +%s) - start )) s"

checks: venv test-tools ## make test without molecule: unit and roles-check, then lint, build-check and sanity, then compat
	@$(MAKE) --no-print-directory unit roles-check
	@$(MAKE) --no-print-directory lint build-check sanity
	@$(MAKE) --no-print-directory compat

lint: venv ## ansible-lint, antsibull-docs, changelog fragments and CHANGELOG.md
	ansible-lint --profile production
	antsibull-docs lint-collection-docs --plugin-docs .
	antsibull-changelog lint
	python scripts/check_changelog_fragment.py
	@# CHANGELOG.md is what antsibull-changelog generates from changelogs/changelog.yaml.
	tmp=$$(mktemp); trap 'rm -f "$$tmp"' EXIT; \
	antsibull-changelog generate --output "$$tmp" --output-format md; \
	diff -u CHANGELOG.md "$$tmp" || { echo "CHANGELOG.md is stale: run antsibull-changelog generate" >&2; exit 1; }

unit: venv ## Module unit tests against real servers on loopback; the changelog fragment check
	python -m pytest -p no:cacheprovider -n 2 $(UNIT_TESTS)

role-docs: venv ## Rewrite the "Role variables" section of each role README from its argument spec
	python scripts/role_readmes.py

roles-check: venv ## Every invalid role variable stops the play with its own message; each role renders in check mode
	python -m pytest -p no:cacheprovider -n 2 $(ROLE_TESTS)

build-check: venv ## Build the collection tarball, run Galaxy's importer on it, use it by FQCN from an empty path
	python -m pytest -p no:cacheprovider tests/build

sanity: venv ## ansible-test sanity from ansible_collections/websocket/nginx (make unit runs the unit tests)
	scripts/ansible-test.sh sanity

# The tests import this checkout through the link scripts/setup-venv.sh makes in .venv/collections (ansible.cfg).
compat: venv ## make unit's and make roles-check's tests with ansible-core 2.17, the lowest claimed (.venv-ansible-2.17)
	@VENV=$(COMPAT_VENV) REQUIREMENTS=requirements-ansible-2.17.txt MAX_MINOR=12 scripts/setup-venv.sh
	PATH="$(COMPAT_VENV)/bin:$$PATH" $(COMPAT_VENV)/bin/python -m pytest -p no:cacheprovider -n 2 tests/unit tests/roles tests/compat

molecule: setup test-tools ## Full molecule test sequence of each scenario (sets up the host tools they use, e.g. chromium for the demo page)
	for scenario in $(MOLECULE_SCENARIOS); do molecule test -s $$scenario; done

# One scenario (make test runs them side by side): molecule-default, molecule-cluster.
molecule-%: setup test-tools
	molecule test -s $*

bench: setup ## Capacity benchmark, not part of make test (about 11 min): table + tests/output/bench/capacity.json
	python tests/benchmarks/bench_capacity.py $(BENCH_ARGS)

bench-versus: setup ## Our roles vs geerlingguy.nginx on the seed's job over SSH and docker, not part of make test (about 9 min): table + tests/output/bench/versus.json
	python tests/benchmarks/bench_versus.py $(BENCH_VERSUS_ARGS)

bench-fleet: setup ## Rolling changes, failover and drain of three proxies, not part of make test (about 8 min): table + tests/output/bench/fleet.json
	python tests/benchmarks/bench_fleet.py $(BENCH_FLEET_ARGS)

clean: ## Remove build output (not .venv)
	rm -rf build tests/output
