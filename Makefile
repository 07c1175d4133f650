# lc-recover: the front door. `make help` lists the targets.
# Every target installs what it needs on a fresh Debian machine (idempotent), so a clean checkout
# needs only `make demo` or `make test`.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV       := .venv
PY         := $(VENV)/bin/python
STAMP      := build/stamps
MODULES    := ihs_maintenance lc_scheduler lc_queue lc_export lc_sync_report lc_orphan lc_resync lc_owners lc_owner_mail lc_verify lc_lock
APT_PKGS   := apache2 openssl jython curl chromium time openssh-server openssh-client sudo acl
# Where cargo writes every binary (modules, lc-sim, lc-bench): .cargo/config.toml builds for this
# explicit target, statically linked. PLATFORM is how the collection names that build's binaries
# (plugins/modules/__bin__/<module>_<system>_<arch>, chosen per host by the platform_binary action).
CARGO_TARGET := x86_64-unknown-linux-gnu
BIN_DIR    := target/$(CARGO_TARGET)/release
PLATFORM   := linux_x86_64
MODULE_BIN := ansible/plugins/modules/__bin__
COLLECTION_VERSION := $(shell sed -n 's/^version: *//p' ansible/galaxy.yml)
COLLECTION_TARBALL := build/connections-dr-$(COLLECTION_VERSION).tar.gz
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(CURDIR)/$(VENV)/bin:$(CURDIR)/$(BIN_DIR):$(PATH)

.PHONY: help deps build collection test test-rust test-ansible docs docs-check sanity ee fuzz lint fmt demo bench clean

help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP)/apt: Makefile
	@mkdir -p $(STAMP)
	@missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@touch $@

$(STAMP)/venv: requirements.txt
	@mkdir -p $(STAMP)
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	@touch $@

deps: $(STAMP)/apt $(STAMP)/venv ## Install Debian packages and the Python venv (ansible-core).

build: deps ## Build the static release binaries (modules, lc-sim, lc-anonymize); install the modules into the collection.
	cargo build --release --workspace --bins
	@test -x $(BIN_DIR)/lc-anonymize || { echo "make build: $(BIN_DIR)/lc-anonymize was not built"; exit 1; }
	@mkdir -p $(MODULE_BIN) build/collections/ansible_collections/connections
	@for m in $(MODULES); do \
	  if [ -x $(BIN_DIR)/$$m ]; then install -m 0755 $(BIN_DIR)/$$m $(MODULE_BIN)/$${m}_$(PLATFORM); fi; \
	done
	@ln -sfn ../../../../ansible build/collections/ansible_collections/connections/dr

collection: build ## Build the collection tarball (build/connections-dr-<version>.tar.gz).
	ansible-galaxy collection build ansible --output-path build --force >/dev/null
	@echo "$(COLLECTION_TARBALL): $$(du -k $(COLLECTION_TARBALL) | cut -f1) KiB"

test: build docs-check test-rust test-ansible sanity ee fuzz lint ## Run every test (Rust, Ansible-level, fuzzing, linters).

test-rust: deps ## Rust unit and fixture tests.
	cargo test --workspace

test-ansible: build ## Ansible-level tests: real ansible-playbook, real Apache httpd, simulated cell.
	LC_NO_BUILD=1 $(PY) -m pytest -q tests

docs: build ## Write the modules' option facts (types, defaults, choices, rules) into their docs from the modules themselves.
	$(PY) tools/module_docs.py $(BIN_DIR) $(MODULES)

docs-check: build ## Fail when a module's docs say other than the module (run `make docs`).
	$(PY) tools/module_docs.py --check $(BIN_DIR) $(MODULES)

# ansible-test sanity as collection maintainers run it: in a checkout at
# ansible_collections/connections/dr (a copy of ansible/ with the binaries, in git, since
# ansible-test lists the files through git), with the ignore files of ansible/tests/sanity.
# ansible-test runs most tests in virtual environments of its own (~/.ansible/test/venv) and
# bootstraps pip into them with a script from ci-files.testing.ansible.com, which is not
# reachable here; the stand-in of tests/sanity_support/get_pip.py runs pip from its wheel on PyPI
# instead. Once those environments are made (the stamp), sanity runs offline.
SANITY_DIR := build/sanity/ansible_collections/connections/dr
ANSIBLE_TEST_PIP := 24.2
ANSIBLE_TEST_GET_PIP := $(HOME)/.ansible/test/cache/get_pip_$(subst .,_,$(ANSIBLE_TEST_PIP)).py

$(STAMP)/ansible-test-venvs: requirements.txt tests/sanity_support/get_pip.py
	@mkdir -p $(STAMP) build/ansible-test $(dir $(ANSIBLE_TEST_GET_PIP))
	@$(VENV)/bin/pip download -q --disable-pip-version-check --no-deps --only-binary :all: pip==$(ANSIBLE_TEST_PIP) -d build/ansible-test
	@test -f $(ANSIBLE_TEST_GET_PIP) || \
	  sed 's|@WHEEL@|$(CURDIR)/build/ansible-test/pip-$(ANSIBLE_TEST_PIP)-py3-none-any.whl|' tests/sanity_support/get_pip.py > $(ANSIBLE_TEST_GET_PIP)
	@$(MAKE) --no-print-directory sanity-tree
	cd $(SANITY_DIR) && ansible-test sanity --prime-venvs --python 3.11 --color no >/dev/null
	@touch $@

.PHONY: sanity-tree
sanity-tree:
	@rm -rf $(SANITY_DIR) && mkdir -p $(SANITY_DIR)
	@cp -a ansible/. $(SANITY_DIR)/
	@find $(SANITY_DIR) -name __pycache__ -prune -exec rm -rf {} +
	@cd $(SANITY_DIR) && git init -q && git add -A

sanity: build $(STAMP)/ansible-test-venvs ## ansible-test sanity on the collection (offline once its environments exist).
	@$(MAKE) --no-print-directory sanity-tree
	cd $(SANITY_DIR) && ansible-test sanity --python 3.11 --color no

ee: collection ## Check execution-environment.yml (ansible-builder schema 3) with ansible-builder create.
	@grep -q 'src: $(COLLECTION_TARBALL)$$' execution-environment.yml && \
	  grep -q 'name: collections/$(notdir $(COLLECTION_TARBALL))$$' execution-environment.yml || \
	  { echo "execution-environment.yml does not name $(COLLECTION_TARBALL) (src and galaxy name)"; exit 1; }
	rm -rf build/ee
	ansible-builder create -f execution-environment.yml --context build/ee >/dev/null
	@test -f build/ee/_build/collections/$(notdir $(COLLECTION_TARBALL)) && echo "build/ee: build context made"

# Coverage-guided fuzzing with libFuzzer through cargo-fuzz, on stable Rust (no sanitizer, which
# would need nightly). Each target starts from its seeds (fuzz/seeds/<target>, kept in the
# repository), the test fixtures of what it reads (FUZZ_FIXTURES_<target>) and the corpus of
# earlier local runs (build/fuzz/corpus), and runs FUZZ_SECONDS.
# A crash stops the step; the input is in build/fuzz/artifacts/<target>/.
FUZZ_TARGETS := args httpd_conf export_xml report_html wsadmin_output
FUZZ_SECONDS ?= 30
CARGO_FUZZ_VERSION := 0.13.2
FUZZ_FIXTURES_httpd_conf := ../crates/lc_core/tests/fixtures/httpd_conf ../crates/lc_sim/templates/ihs
FUZZ_FIXTURES_report_html := ../crates/lc_core/tests/fixtures/reports
FUZZ_FIXTURES_export_xml := ../crates/lc_core/tests/fixtures/exports

$(STAMP)/cargo-fuzz:
	@mkdir -p $(STAMP)
	@cargo fuzz --version 2>/dev/null | grep -q ' $(CARGO_FUZZ_VERSION)' || \
	  cargo install --locked --quiet cargo-fuzz --version $(CARGO_FUZZ_VERSION)
	@touch $@

fuzz: $(STAMP)/cargo-fuzz ## Fuzz every parser of outside input, FUZZ_SECONDS (30) per target (see RELIABILITY.md).
	cd fuzz && RUSTUP_TOOLCHAIN=stable cargo fuzz build -s none -a
	@cd fuzz && for t in $(FUZZ_TARGETS); do \
	  mkdir -p ../build/fuzz/corpus/$$t ../build/fuzz/artifacts/$$t; \
	  log=../build/fuzz/$$t.log; \
	  case $$t in httpd_conf) fixtures="$(FUZZ_FIXTURES_httpd_conf)";; report_html) fixtures="$(FUZZ_FIXTURES_report_html)";; export_xml) fixtures="$(FUZZ_FIXTURES_export_xml)";; *) fixtures="";; esac; \
	  if RUSTUP_TOOLCHAIN=stable cargo fuzz run -s none -a $$t ../build/fuzz/corpus/$$t seeds/$$t $$fixtures -- \
	       -max_total_time=$(FUZZ_SECONDS) -timeout=10 -artifact_prefix=../build/fuzz/artifacts/$$t/ >$$log 2>&1; then \
	    echo "fuzz $$t: $$(grep -E '^#[0-9]+[[:space:]]+DONE' $$log | sed -E 's/^#([0-9]+)[[:space:]]+DONE.*(cov: [0-9]+).*/\1 runs, \2/'), no crash"; \
	  else \
	    tail -40 $$log; echo "fuzz $$t: CRASH, input in build/fuzz/artifacts/$$t/ (log $$log)"; exit 1; \
	  fi; \
	done

lint: deps ## cargo fmt --check, clippy -D warnings, ansible-lint (production profile).
	cargo fmt --all -- --check
	cargo fmt --manifest-path fuzz/Cargo.toml -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	$(VENV)/bin/ansible-lint --profile production ansible

fmt: ## Format the Rust code.
	cargo fmt --all

DEMO_DIR   := demo
DEMO_CELL  := $(DEMO_DIR)/cell

demo: build ## Run recover.yml against a freshly damaged simulated cell (2 IHS stand-ins), then some owners' toggles and verify.yml; print the reports.
	@if [ -f $(DEMO_CELL)/cell.json ]; then lc-sim ihs stop $(DEMO_CELL) || true; fi
	@rm -rf $(DEMO_DIR) && mkdir -p $(DEMO_DIR) && chmod 755 $(DEMO_DIR)
	@lc-sim init $(DEMO_CELL) --communities 500 --ihs 2 >/dev/null
	@lc-sim damage $(DEMO_CELL) --restore communities >/dev/null
	@lc-sim ihs start $(DEMO_CELL)
	@trap 'lc-sim ihs stop $(DEMO_CELL)' INT TERM; \
	  LC_DEMO_CELL=$(CURDIR)/$(DEMO_CELL) ansible-playbook -i playbooks/inventories/demo playbooks/recover.yml; \
	  rc=$$?; \
	  if [ $$rc -eq 0 ]; then \
	    echo; echo "Days later: the owners of 4 communities toggle the access setting (lc-sim toggle), then verify.yml:"; \
	    lc-sim tick $(DEMO_CELL) >/dev/null && lc-sim toggle $(DEMO_CELL) --first 4 >/dev/null && \
	    LC_DEMO_CELL=$(CURDIR)/$(DEMO_CELL) ansible-playbook -i playbooks/inventories/demo playbooks/verify.yml; \
	    rc=$$?; \
	  fi; \
	  lc-sim ihs stop $(DEMO_CELL); \
	  if [ $$rc -eq 0 ]; then \
	    echo; echo "Report: $(CURDIR)/$(DEMO_DIR)/recovery-report/recovery-report.html"; \
	    echo "Owners: $(CURDIR)/$(DEMO_DIR)/recovery-report/owners.csv"; \
	    echo "Follow-up: $(CURDIR)/$(DEMO_DIR)/recovery-report/verify/verify-report.html"; \
	  fi; exit $$rc

bench: build ## Measure speed and memory against the alternatives, side by side (~15 min; see BENCHMARKS.md).
	$(PY) bench/run.py

clean: ## Remove build output (the binaries installed beside the docs too).
	rm -rf target build
	rm -rf $(MODULE_BIN)
