# Tenant Provisioning Service: build, demo, tests and benchmarks.
#
#   make demo    onboard the example tenants on the local runtime
#   make test    every test: Rust unit, integration and end-to-end tests
#                against moto, then the CDK app's tests
#   make bench   benchmarks; figures go to docs/benchmarks.md
#   make docs    render docs/tenant-record.md's field tables from the schema
#
# Everything installs into the repository: .venv (moto, cargo-lambda,
# cfn-lint) and infra/node_modules. One cargo target directory is shared by
# every step so the workspace compiles once per profile.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := $(CURDIR)/.venv
PYTHON ?= python3
export CARGO_TARGET_DIR ?= $(CURDIR)/target
export TPS_MOTO_SERVER ?= $(VENV)/bin/moto_server
export PATH := $(VENV)/bin:$(PATH)
export CDK_DISABLE_CLI_TELEMETRY := true
# The CDK app packages the release binaries and its drift test runs `tps`
# from wherever CARGO_TARGET_DIR puts them.
export TPS_LAMBDA_ASSET_DIR ?= $(CARGO_TARGET_DIR)/lambda
export TPS_BIN ?= $(CARGO_TARGET_DIR)/debug/tps
# Lambda architecture for deployment builds: x86_64 or arm64.
LAMBDA_ARCH ?= x86_64

.PHONY: help venv node deps build lambdas demo docs test test-rust test-infra bench clean

help:
	@sed -n '2,12p' Makefile | sed 's/^# \{0,1\}//'

$(VENV)/.installed: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

infra/node_modules/.installed: infra/package-lock.json
	cd infra && npm ci --no-audit --no-fund --loglevel=error
	touch $@

node: infra/node_modules/.installed

deps: venv node

build:
	cargo build --workspace --all-targets

# Release bootstrap binaries for Lambda, in target/lambda/<function>/bootstrap.
lambdas: venv
	cargo lambda build --release --package tps-functions \
		$(if $(filter arm64,$(LAMBDA_ARCH)),--arm64,--x86-64)

demo: venv
	cargo run --quiet --package tps-cli --bin tps -- local demo

# The test of the page fails when the page and the schema differ; with
# TPS_UPDATE_DOCS set it rewrites the page instead.
docs:
	TPS_UPDATE_DOCS=1 cargo test --quiet --package tps-cli --bin tps -- docs::tenant_record_page_is_current

test-rust: venv
	cargo test --workspace --no-fail-fast

# The CDK tests compare the synthesized template with `tps local manifest`.
test-infra: deps lambdas
	cargo build --package tps-cli --bin tps
	cd infra && npm test

test: test-rust test-infra

bench: venv
	$(MAKE) lambdas LAMBDA_ARCH=x86_64
	test -x $(CURDIR)/.venv-bench/bin/python || $(PYTHON) -m venv $(CURDIR)/.venv-bench
	$(CURDIR)/.venv-bench/bin/pip install --quiet --disable-pip-version-check -r benches/requirements-bench.txt
	rm -rf $(CARGO_TARGET_DIR)/criterion
# One build with the benches selected, so that the binary gets the same
# dependency features as the criterion bench and cargo bench reuses it.
	cargo build --profile bench --package tps-bench --bins --benches
	cargo bench --package tps-bench --bench hot_paths
	$(CARGO_TARGET_DIR)/release/tps-bench \
		--command "make bench" \
		--lambda-dir $(CARGO_TARGET_DIR)/lambda \
		--criterion-dir $(CARGO_TARGET_DIR)/criterion \
		--python $(CURDIR)/.venv-bench/bin/python \
		--json $(CARGO_TARGET_DIR)/bench/results.json \
		--log-dir $(CARGO_TARGET_DIR)/bench/logs \
		--out docs/benchmarks.md

clean:
	cargo clean
	rm -rf infra/cdk.out
