# The README's two commands:
#   make demo   — go run ./cmd/capi-connector demo (embedded Kafka + Graph API simulator, no setup)
#   make test   — the whole test suite: vet, gofmt, race tests on kfake, fuzz seed corpora, then the same
#                 integration suite against a real Apache Kafka broker (started from Maven Central jars).
GO ?= go
PKGS := ./...
# make build VERSION=1.2.0 stamps the version `capi-connector version` prints (empty: the module version from the
# build info, "(devel)" for a checkout; the VCS revision and time are always read from the build info).
VERSION ?=

.PHONY: demo test test-unit test-kafka lint build bench

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o capi-connector ./cmd/capi-connector

demo:
	$(GO) run ./cmd/capi-connector demo

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

# On kfake, whatever CAPI_TEST_BROKERS the calling shell has.
test-unit:
	env -u CAPI_TEST_BROKERS $(GO) test -race -count=1 -timeout 20m $(PKGS)

# The end-to-end suite (./test/...) again, on a real Apache Kafka broker: test/kafka/start.sh fetches Kafka from
# Maven Central once (cached outside the repo), starts a single-node KRaft broker on loopback and prints its
# address; stop.sh removes it whatever happens (trap). A private state file keeps a broker started by hand out of
# this run: the broker fault tests kill and restart the broker the state file names.
E2E_PKGS := ./test/...

test-kafka:
	@set -eu; \
	export CAPI_KAFKA_STATE="$${TMPDIR:-/tmp}/capi-kafka-make-$$$$.state"; \
	trap 'test/kafka/stop.sh' EXIT; trap 'exit 130' INT; trap 'exit 143' TERM; \
	if ! out=$$(test/kafka/start.sh); then \
		echo "make test-kafka: FAILED: could not start Apache Kafka for the real-broker suite (needs Java 17+, and Maven once to fetch the jars; see test/kafka/README.md)" >&2; \
		exit 1; \
	fi; \
	addr=$$(printf '%s\n' "$$out" | tail -n 1); \
	echo "make test-kafka: end-to-end suite against Apache Kafka at $$addr"; \
	CAPI_TEST_BROKERS=$$addr $(GO) test -race -count=1 -timeout 10m $(E2E_PKGS)

test: lint test-unit test-kafka

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./processor/...
