# Modelium Brain. `make test` is what CI runs (.ci/run); it needs Go, gcc and make, and installs what the
# Python and TypeScript clients need when missing (client-deps: Debian packages as root, npm ci).
SHELL := /bin/bash -o pipefail
GO    ?= go
TOOL  := $(GO) tool -modfile=tools.mod
BUF   := $(TOOL) buf
# go-nvml's cgo wrappers call NVML functions the header marks deprecated; a cold build prints a
# warning for each. They are harmless: keep CI's output readable.
CGO_CFLAGS ?= -O2 -g -Wno-deprecated-declarations
export CGO_CFLAGS

.PHONY: all generate lint fmt-check generate-check tidy-check vet build-nocgo unit figures test bench bench-smoke gpu-check run grpcurl fuzz mutation mutation-smoke

all: test

## generate: regenerate gen/ and the documented descriptor set from proto/ (local plugins only)
generate:
	$(BUF) generate
	$(BUF) build -o server/brain.binpb

## lint: buf lint and buf format (no diff)
lint:
	$(BUF) lint
	$(BUF) format --diff --exit-code

## generate-check: the committed gen/ and descriptor set match proto/
generate-check: generate
	@if [ -n "$$(git status --porcelain -- gen server/brain.binpb)" ]; then \
	  echo "gen/ or server/brain.binpb is out of date with proto/: run 'make generate' and commit"; \
	  git status --porcelain -- gen server/brain.binpb; git --no-pager diff --stat -- gen server/brain.binpb; exit 1; fi

## fmt-check: gofmt has nothing to change
fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^gen/')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

## build-nocgo: the brain builds without cgo (NVML then reports unavailable)
build-nocgo:
	CGO_ENABLED=0 $(GO) build -o /dev/null ./...

## unit: every Go test with the race detector, the end-to-end tests of the real binary included
unit:
	$(GO) test -race -count=1 ./...

## figures: the replay figures the issues pin (DESIGN.md's fixed keep-alive figures, the predictive
## policy against fixed 5 min, victim choices under a memory cap) replay whole halves of the Azure
## trace, too slow under the race detector: their files are `//go:build !race`, run here without it
figures:
	$(GO) test -count=1 ./replay/ ./predict/ ./cmd/brainreplay/

## fuzz: a short run of two request-validation fuzz targets from their committed seeds
## (server/testdata/fuzz); every target's seeds also run as plain tests in unit. Explore longer
## with e.g. go test -run '^$$' -fuzz '^FuzzSyncGateway$$' -fuzztime 5m ./server/
FUZZ_TIME ?= 5s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzSyncGateway$$' -fuzztime $(FUZZ_TIME) ./server/
	$(GO) test -run '^$$' -fuzz '^FuzzReportTraffic$$' -fuzztime $(FUZZ_TIME) ./server/

## tidy-check: go.mod and go.sum are tidy (go mod tidy would change nothing)
tidy-check:
	$(GO) mod tidy -diff

## test: everything CI checks, phase by phase, each announced with what it does and roughly how long
## it takes (2 CPUs; "cold" is a machine with empty Go caches), and timed.
TEST_PHASES := \
  "lint|buf lint and buf format (cold: builds buf, about 3.5 min; warm: seconds)" \
  "tidy-check|go.mod and go.sum are tidy (seconds)" \
  "generate-check|gen/ and server/brain.binpb match proto/ (seconds)" \
  "client-deps|Debian protoc and grpc plugin, python3-grpcio, npm ci (new machine: about 1 min; else seconds)" \
  "generate-clients-check|gen/python and gen/ts match proto/ (seconds)" \
  "fmt-check|gofmt (seconds)" \
  "vet|go vet ./... (cold: about 2 min, it compiles everything; warm: seconds)" \
  "build-nocgo|CGO_ENABLED=0 go build ./... (cold: about 1 min; warm: seconds)" \
  "unit|go test -race ./..., the end-to-end tests of the real binary included (cold: about 6 min; warm: about 2 min)" \
  "figures|the replay figures pinned on whole halves of the trace, without -race (about 2 min)" \
  "fuzz|go test -fuzz, 5 s each on FuzzSyncGateway and FuzzReportTraffic (cold: about 3 min, it builds with fuzzing instrumentation; warm: about 25 s)" \
  "mutation-smoke|gremlins on internal/validate, at least 90 % of its mutants killed (cold: builds gremlins, about 1 min; warm: about 20 s)"
test:
	@start=$$(date +%s); for p in $(TEST_PHASES); do \
	  t=$${p%%|*}; what=$${p#*|}; echo "==> make $$t: $$what"; s=$$(date +%s); \
	  $(MAKE) --no-print-directory $$t || { echo "<== make $$t FAILED after $$(( $$(date +%s) - s )) s"; exit 1; }; \
	  echo "<== make $$t: done in $$(( $$(date +%s) - s )) s"; done; \
	echo "make test: every phase passed in $$(( $$(date +%s) - start )) s"

## bench: the real brain over loopback gRPC beside Health/Check, watch fan-out and memory (cmd/brainbench,
## writes bench/results.json and bench/results.md, CPU profiles in bench/profiles), then the Go
## micro-benchmarks of the decisions (bench/micro.txt). BENCHMARKS.md quotes a run; under 10 minutes.
bench:
	$(GO) build -o bin/brain ./cmd/brain
	$(GO) build -o bin/brainbench ./cmd/brainbench
	./bin/brainbench --brain bin/brain --config configs/bench-eight-gpus.yaml --out bench --profile-dir bench/profiles
	$(GO) test -run '^$$' -bench . -benchmem ./rules/ ./hfconfig/ ./gpu/ ./metrics/ ./recommend/ ./server/ | tee bench/micro.txt

## bench-smoke: the harness for a few seconds with tiny settings, no thresholds (also part of unit)
bench-smoke:
	$(GO) test -count=1 -run Smoke -v ./cmd/brainbench/

# --- Mutation testing (gremlins, pinned in tools.mod) ----------------------------------------------
# Each mutant is one small change to the code (a flipped comparison, + for -); the package's own
# tests must fail on it. One package at a time with one worker: the machines are small and shared.
# The tag "mutation" leaves out the figure tests too slow to run once per mutant (replay's capped
# replays, 40 s a run); make test runs them.
MUTATION_PKGS := internal/validate metrics rules gpu hfconfig recommend predict replay access internal/config server
GREMLINS      := $(TOOL) gremlins unleash --workers 1 --timeout-coefficient 10 --tags mutation

## mutation: gremlins over every domain package, internal/config and server/ (about 1 h 30 min on 2 shared CPUs; not
## part of make test), results in bench/mutation/, the report in bench/mutation.md
mutation:
	@mkdir -p bench/mutation; : > bench/mutation/times.tsv; for p in $(MUTATION_PKGS); do \
	  n=$$(echo $$p | tr / _); s=$$(date +%s); echo "==> gremlins $$p"; \
	  $(GREMLINS) -o bench/mutation/$$n.json ./$$p > bench/mutation/$$n.log 2>&1 || { tail -20 bench/mutation/$$n.log; exit 1; }; \
	  grep -E 'Killed:|efficacy' bench/mutation/$$n.log; printf '%s\t%s\t%s\n' $$p $$(( $$(date +%s) - s )) $$(git rev-parse --short HEAD) >> bench/mutation/times.tsv; done
	$(GO) run ./internal/mutationreport -dir bench/mutation -pkgs "$(MUTATION_PKGS)" -min-efficacy 90 -baseline bench/mutation-baseline.tsv \
	  -verdicts bench/mutation-verdicts.tsv -notes bench/mutation-notes.md -out bench/mutation.md

## mutation-smoke: gremlins on one small package, failing under 90 % efficacy, so that make mutation
## cannot rot (gremlins' own --threshold-efficacy is not applied in v0.6.0: the report tool checks)
mutation-smoke:
	@d=$$(mktemp -d); trap 'rm -rf $$d' EXIT; \
	$(GREMLINS) -o $$d/internal_validate.json ./internal/validate > $$d/log 2>&1 || { cat $$d/log; echo "mutation-smoke: gremlins failed"; exit 1; }; \
	grep -E 'Killed:|efficacy' $$d/log; \
	$(GO) run ./internal/mutationreport -dir $$d -pkgs internal/validate -min-efficacy 90 -out $$d/mutation.md

## gpu-check: the brain with the real NVML backend on this machine's GPU (needs an NVIDIA GPU)
gpu-check:
	$(GO) build -o bin/holdmem ./testdata/gpu/holdmem
	MODELIUM_GPU_CHECK=1 MODELIUM_GPU_CHECK_HOLDER=$(CURDIR)/bin/holdmem $(GO) test -count=1 -v -run GPUCheck ./gpu/ ./cmd/brain/

## run: the brain with embedded defaults
run:
	$(GO) run ./cmd/brain

## grpcurl: build the pinned grpcurl (tools.mod) into bin/, for the README's examples:
## `make grpcurl && export PATH=$PWD/bin:$PATH`
grpcurl:
	$(GO) build -modfile=tools.mod -o bin/grpcurl github.com/fullstorydev/grpcurl/cmd/grpcurl

# --- Python and TypeScript clients ----------------------------------------------------------------
# gen/python and gen/ts come from the same proto/ through buf with local plugins only: Debian's
# protoc 3.21 (builtin python and pyi) and grpc_python_plugin, and protoc-gen-es pinned in
# examples/gateway-ts/package-lock.json. `make generate` (Go) needs none of them.
CLIENT_DEBS := protobuf-compiler protobuf-compiler-grpc python3-grpcio python3-protobuf
GATEWAY_TS  := examples/gateway-ts

.PHONY: client-deps client-debs generate-clients generate-clients-check gateways

## client-deps: Debian's protoc, grpc plugin, python3-grpcio/-protobuf (installed only when missing; needs root then) and npm ci in examples/gateway-ts
client-deps: client-debs $(GATEWAY_TS)/node_modules/.package-lock.json

client-debs:
	@missing=$$(for p in $(CLIENT_DEBS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done; \
	  command -v npm >/dev/null || echo nodejs npm); missing=$$(echo $$missing); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "client-deps: missing Debian packages: $$missing; as root: apt-get install -y $$missing"; exit 1; fi; \
	  echo "client-deps: installing $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; fi

# npm ci only when the lock file changed since the last install (npm writes node_modules/.package-lock.json).
$(GATEWAY_TS)/node_modules/.package-lock.json: $(GATEWAY_TS)/package-lock.json $(GATEWAY_TS)/package.json | client-debs
	cd $(GATEWAY_TS) && npm ci --ignore-scripts --no-audit --no-fund
	@touch $@

## generate-clients: regenerate gen/python and gen/ts from proto/
generate-clients: client-deps
	rm -rf gen/python/modelium gen/ts/modelium  # not gen/python/.gitignore
	$(BUF) generate --template buf.gen.python.yaml
	$(BUF) generate --template buf.gen.ts.yaml

## generate-clients-check: the committed gen/python and gen/ts match proto/
generate-clients-check: generate-clients
	@if [ -n "$$(git status --porcelain -- gen/python gen/ts)" ]; then \
	  echo "gen/python or gen/ts is out of date with proto/: run 'make generate-clients' and commit"; \
	  git status --porcelain -- gen/python gen/ts; git --no-pager diff --stat -- gen/python gen/ts; exit 1; fi

## gateways: the Python and TypeScript reference gateways against the real brain (cmd/brain/gateways_test.go)
gateways: client-deps
	MODELIUM_GATEWAY_LOG=1 $(GO) test -count=1 -v -run TestGateways ./cmd/brain/
