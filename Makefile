# `make test` is the test command README.md gives: it prepares the machine
# (PostgreSQL, the test OpenID provider's Node packages, Chromium) and runs
# every Go test with the race detector, PostgreSQL included.
GO ?= go

.PHONY: test prepare run vet bench

prepare:
	@.ci/prepare >/dev/null

test:
	STEPGATE_TEST_POSTGRES_URL="$$(.ci/prepare)" $(GO) test -race -count=1 -timeout 30m ./...

run:
	$(GO) run ./cmd/stepgate

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }

# Every Go benchmark once, so that none can rot (numbers: see BENCHMARKS.md).
bench:
	STEPGATE_TEST_POSTGRES_URL="$$(.ci/prepare)" $(GO) test -run '^$$' -bench . -benchtime 1x ./...
