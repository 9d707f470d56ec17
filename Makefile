# The two commands a person needs: `make run` (gateway + demo IdP + demo RP) and `make test`.
# Both provision what is missing: Debian packages (as root), a pinned Node.js, npm packages.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

NODE_BIN := $(shell ./.make/node.sh)
export PATH := $(NODE_BIN):$(PATH)
# pkcs11js is a native addon: build it against the headers of the Node.js that runs it.
export npm_config_nodedir := $(abspath $(dir $(realpath $(NODE_BIN)/node))..)
export npm_config_update_notifier := false
export npm_config_fund := false
export npm_config_audit := false

.PHONY: help provision system-packages run test typecheck lint format unit bench conformance clean fresh-debian-check

help:
	@echo "make run          gateway + demo SAML IdP + demo RP on localhost (Ctrl-C stops all)"
	@echo "make test         typecheck + format check + lint + import rules + all tests against real PostgreSQL, Redis, SoftHSM2"
	@echo "make format       format the tree with Prettier (make lint checks it)"
	@echo "make bench        benchmarks (figures go to BENCHMARKS.md; BENCH_QUICK=1 make bench for a short run)"
	@echo "make conformance  the conformance suite against a running gateway (TARGET=...)"
	@echo "make fresh-debian-check  make run + make test on a bare Debian 12 (debootstrap, root)"
	@echo "make clean        remove var/ (local databases, token) and generated certificates"

# Debian packages first: `npm ci` builds pkcs11js, which needs g++ (build-essential) and python3.
provision: system-packages node_modules/.installed

system-packages:
	@./.make/system-packages.sh

node_modules/.installed: package.json package-lock.json | system-packages
	@echo "provision: npm ci (Node $$(node --version))"
	npm ci --no-fund --no-audit
	@touch $@

run: provision
	node test/harness/demo.ts

typecheck: provision
	npx tsc --noEmit -p tsconfig.json

format: provision
	npx prettier --write --log-level warn .

lint: provision
	npx prettier --check --log-level warn .
	npx eslint .
	npx depcruise --config dependency-rules.cjs hsm adapters gateway conformance

unit: provision
	node test/harness/with-stack.ts -- npx ava $(ARGS)

test: provision
	@echo "== typecheck"; npx tsc --noEmit -p tsconfig.json
	@echo "== format (prettier --check)"; npx prettier --check --log-level warn .
	@echo "== lint"; npx eslint .
	@echo "== architecture (dependency-rules.cjs)"; npx depcruise --config dependency-rules.cjs hsm adapters gateway conformance
	@echo "== tests"; node test/harness/with-stack.ts -- npx ava

bench: provision
	node test/bench/run-all.ts

conformance: provision
	node conformance/cli.ts $(if $(TARGET),--target $(TARGET),)

# The README's two commands on a bare Debian 12 root filesystem (debootstrap minbase; root only).
fresh-debian-check:
	bash test/fresh-debian/run.sh

clean:
	rm -rf var certs/generated test/artifacts
