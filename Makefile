# The front door: `make` lists the targets.
SHELL := /bin/bash
GO    ?= go
PKGS  := ./...

.DEFAULT_GOAL := help
.PHONY: help run build test test-short lint fmt up down mongosh smoke drill embedded-mongo image-embedded image test-container bench bench-smoke

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*?## "}{printf "  make %-16s %s\n", $$1, $$2}'

run: ## Run the service on :3000 with .env (embedded store unless MONGODB_URI is set)
	$(GO) run ./cmd/server

build: ## Build the binaries into bin/
	CGO_ENABLED=0 $(GO) build -o bin/ ./cmd/...

test: ## Run every test with the race detector against a real MongoDB-wire server
	$(GO) test -race -count=1 -timeout 25m $(PKGS)

lint: ## go vet and a gofmt check
	$(GO) vet $(PKGS)
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

fmt: ## Format the code
	gofmt -w .

up: ## docker compose up: MongoDB 7 + the service
	docker compose up --build

down: ## docker compose down
	docker compose down

mongosh: ## Open mongosh on the store (embedded default, or MONGODB_URI)
	mongosh "$${MONGODB_URI:-mongodb://127.0.0.1:27017}/reliability_demo"

smoke: ## Run the README walk-through against a running service
	scripts/smoke.sh

drill: ## Run the failure drill (200 payments) against localhost:3000 and check MongoDB
	$(GO) run ./cmd/drill $(DRILL_ARGS)

embedded-mongo: ## Run only the embedded MongoDB-compatible server on 127.0.0.1:27017
	$(GO) run ./cmd/embedded-mongo -addr 127.0.0.1:27017 -data ./data/shared

image-embedded: ## Build the FROM-scratch image of the embedded server (for testcontainers)
	scripts/build-embedded-image.sh

image: ## Build reliabledemo/payments:local, a FROM-scratch image of the server with its embedded store
	scripts/build-server-image.sh

test-container: ## Test paymentstest/container against the image of `make image` (skips without Docker or the image)
	TESTCONTAINERS_HOST_OVERRIDE=$${TESTCONTAINERS_HOST_OVERRIDE:-127.0.0.1} \
	TESTCONTAINERS_RYUK_DISABLED=$${TESTCONTAINERS_RYUK_DISABLED:-true} \
	$(GO) test -count=1 -timeout 5m -v ./paymentstest/container

bench: build ## Benchmark matrix (embedded store at 0/5k/20k orders, and MONGODB_URI if set): a markdown table
	scripts/bench.sh

bench-smoke: build ## Every bench mode briefly (100 requests each, c=4) on a started server; fails on errors
	bin/bench -start-server -mode all -n $${BENCH_SMOKE_N:-100} -c 4 -prefill 50
