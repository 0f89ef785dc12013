# The README's two commands:
#   make demo   — go run ./cmd/capi-connector demo (embedded Kafka + Graph API simulator, no setup)
#   make test   — the whole test suite: vet, gofmt, race tests on kfake, fuzz seed corpora, then the same
#                 integration suite against a real Apache Kafka broker (started from Maven Central jars) and a
#                 real schema registry (Apicurio Registry, assembled from Maven Central).
GO ?= go
PKGS := ./...
# make build VERSION=1.2.0 stamps the version `capi-connector version` prints (empty: the module version from the
# build info, "(devel)" for a checkout; the VCS revision and time are always read from the build info).
VERSION ?=

.PHONY: demo test test-unit test-kafka test-deploy deploy-tools lint build bench

# Tools the deployment tests run (deploy/): prometheus + promtool from Debian's package (.ci/ensure-prometheus.sh,
# installed when missing, service not started); kustomize from the Go module proxy, built once into TOOLS_BIN
# (v5.8.3 and later need Go 1.27); capi-k8s-validate, the manifests checked against the Kubernetes API's Go types
# (deploy/kubernetes/validate, its own module so the connector does not depend on the Kubernetes libraries).
TOOLS_BIN ?= $(HOME)/.cache/capi-connector/bin
KUSTOMIZE_VERSION := v5.8.2
export PATH := $(TOOLS_BIN):$(PATH)

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o capi-connector ./cmd/capi-connector

demo:
	$(GO) run ./cmd/capi-connector demo

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

deploy-tools:
	@.ci/ensure-prometheus.sh
	@if ! { [ -x "$(TOOLS_BIN)/kustomize" ] && "$(TOOLS_BIN)/kustomize" version 2>/dev/null | grep -qx '$(KUSTOMIZE_VERSION)'; }; then \
		echo "deploy-tools: go install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION) into $(TOOLS_BIN)"; \
		GOBIN="$(TOOLS_BIN)" $(GO) install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION); \
	fi
	@$(GO) -C deploy/kubernetes/validate build -o "$(TOOLS_BIN)/capi-k8s-validate" .

# The deployment checks alone: manifests through kustomize and the config loader, promtool rule tests, the
# real-Prometheus end-to-end test, dashboard and rule metric names against a running connector.
test-deploy: deploy-tools
	DEPLOY_TOOLS_REQUIRED=1 $(GO) test -count=1 -v -timeout 10m ./deploy/...

# On kfake and without the real registry, whatever CAPI_TEST_BROKERS / CAPI_TEST_REGISTRY_URL the calling shell
# has. DEPLOY_TOOLS_REQUIRED: a missing tool fails the
# deployment tests instead of skipping them.
test-unit: deploy-tools
	env -u CAPI_TEST_BROKERS -u CAPI_TEST_REGISTRY_URL DEPLOY_TOOLS_REQUIRED=1 $(GO) test -race -count=1 -timeout 20m $(PKGS)

# The end-to-end suite (./test/...) again, on a real Apache Kafka broker and a real schema registry:
# test/kafka/start.sh fetches Kafka from Maven Central once (cached outside the repo), starts a single-node KRaft
# broker on loopback and prints its address; test/registry/start.sh assembles Apicurio Registry from Maven Central
# once (cached outside the repo, private Maven repository), starts it on loopback with in-memory storage and prints
# its Confluent-compatible API URL. Both start at once; stop.sh removes each whatever happens (trap). Private state
# files keep a broker or registry started by hand out of this run: the broker fault tests kill and restart the
# broker the state file names.
# CAPI_KAFKA_SECURED=1 adds the secured listener (SASL_SSL, SCRAM-SHA-512, OAUTHBEARER via a local OIDC endpoint,
# ACLs) to the same broker, for the secured tests (test/secured_test.go), which find its settings through the
# state file.
E2E_PKGS := ./test/...

test-kafka:
	@set -eu; \
	export CAPI_KAFKA_STATE="$${TMPDIR:-/tmp}/capi-kafka-make-$$$$.state"; \
	export CAPI_REGISTRY_STATE="$${TMPDIR:-/tmp}/capi-registry-make-$$$$.state"; \
	regout="$${TMPDIR:-/tmp}/capi-registry-make-$$$$.out"; \
	trap 'test/registry/stop.sh; test/kafka/stop.sh; rm -f "$$regout"' EXIT; trap 'exit 130' INT; trap 'exit 143' TERM; \
	test/registry/start.sh >"$$regout" & regpid=$$!; \
	if ! out=$$(CAPI_KAFKA_SECURED=1 test/kafka/start.sh); then \
		echo "make test-kafka: FAILED: could not start Apache Kafka for the real-broker suite (needs Java 17+, and Maven once to fetch the jars; see test/kafka/README.md)" >&2; \
		exit 1; \
	fi; \
	addr=$$(printf '%s\n' "$$out" | tail -n 1); \
	if ! wait $$regpid; then \
		echo "make test-kafka: FAILED: could not start Apicurio Registry for the real-registry suite (needs Java 17+, and Maven once to assemble it; see test/registry/README.md)" >&2; \
		exit 1; \
	fi; \
	reg=$$(tail -n 1 "$$regout"); \
	echo "make test-kafka: end-to-end suite against Apache Kafka at $$addr and Apicurio Registry at $$reg"; \
	CAPI_TEST_BROKERS=$$addr CAPI_TEST_REGISTRY_URL=$$reg $(GO) test -race -count=1 -timeout 10m $(E2E_PKGS)

test: lint test-unit test-kafka

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./processor/...
