# Modelium Brain. `make test` is what CI runs (.ci/run); it needs only Go, gcc and make.
SHELL := /bin/bash -o pipefail
GO    ?= go
TOOL  := $(GO) tool -modfile=tools.mod
BUF   := $(TOOL) buf

.PHONY: all generate lint fmt-check generate-check vet build-nocgo unit test bench gpu-check run

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

## test: everything CI checks
test: lint generate-check fmt-check vet build-nocgo unit

## bench: Go benchmarks of the decisions
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## gpu-check: the brain with the real NVML backend on this machine's GPU (needs an NVIDIA GPU)
gpu-check:
	$(GO) build -o bin/holdmem ./testdata/gpu/holdmem
	MODELIUM_GPU_CHECK=1 MODELIUM_GPU_CHECK_HOLDER=$(CURDIR)/bin/holdmem $(GO) test -count=1 -v -run GPUCheck ./gpu/ ./cmd/brain/

## run: the brain with embedded defaults
run:
	$(GO) run ./cmd/brain
