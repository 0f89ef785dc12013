# capi-connector image: a static binary on distroless, running as non-root.
#
#   docker build --build-arg VERSION=1.2.0 --build-arg REVISION=$(git rev-parse HEAD) \
#                --build-arg CREATED=$(date -u +%Y-%m-%dT%H:%M:%SZ) -t capi-connector:1.2.0 .
#   docker run --rm -e CAPI_KAFKA_BROKERS=... -e CAPI_PIXEL_ID=... -e CAPI_ACCESS_TOKEN_FILE=/run/secrets/token capi-connector
#
# The entrypoint is the binary, so the command is a subcommand: run (default), check-config, replay,
# graph-simulator, produce-samples, preview, healthcheck, version.
#
# Base images are pinned by digest: a tag can be moved to other content, a digest cannot, so a rebuild of the same
# commit gets the same bases. To update one (monthly, and for every Go patch release or distroless security fix):
#   docker buildx imagetools inspect golang:1.26.8-bookworm           # or: crane digest golang:1.26.8-bookworm
#   docker buildx imagetools inspect gcr.io/distroless/static-debian12:nonroot
# then replace the tag's version and the sha256 below with the multi-platform index digest printed, and run
# `go test ./test/ -run Docker` (it checks the Go version against go.mod).

# Keep the Go version in step with go.mod's `go` line (test/compose_test.go checks it). The image's
# GOTOOLCHAIN=local means an older patch than go.mod's fails the build instead of downloading a toolchain.
FROM golang:1.26.8-bookworm@sha256:dc9ad6c05acc7a88e5b71bde60a5fe3bd4b9f0db209011711b464107438a8107 AS build
WORKDIR /src
# Dependencies first: this layer is reused until go.mod/go.sum change.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# docker build --build-arg VERSION=1.2.0 . stamps what `capi-connector version` prints (empty: "(devel)").
ARG VERSION=
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags "-X main.version=${VERSION}" -o /out/capi-connector ./cmd/capi-connector

# static-debian12: no shell, no package manager, CA certificates included (needed for https://graph.facebook.com
# and TLS brokers); nonroot runs as uid 65532.
FROM gcr.io/distroless/static-debian12:nonroot@sha256:afa5c872c891853ca7fcf1f12c3edb23f7eeef36189728842dd51042ff57f7ab
ARG VERSION=
ARG REVISION=
ARG CREATED=
# OCI image annotations (https://github.com/opencontainers/image-spec/blob/main/annotations.md).
LABEL org.opencontainers.image.title="capi-connector" \
      org.opencontainers.image.description="Kafka to Meta Conversions API connector: consent, mapping, hashing, batching, DLQ, at-least-once delivery" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="https://github.com/capi-connector/capi-connector" \
      org.opencontainers.image.documentation="https://github.com/capi-connector/capi-connector#readme" \
      org.opencontainers.image.base.name="gcr.io/distroless/static-debian12:nonroot"
COPY --from=build /out/capi-connector /usr/local/bin/capi-connector
USER nonroot:nonroot
# 9464: /metrics, /healthz, /readyz of run; 8090: graph-simulator in docker-compose.yml.
EXPOSE 9464 8090
# The image has no shell or curl: the binary checks itself. healthcheck asks /readyz on metrics_addr
# (CAPI_METRICS_ADDR, default :9464) and exits 0 only on 200, so "healthy" means ready: joined the group and every
# destination usable. Kubernetes ignores this and uses the StatefulSet's probes (deploy/kubernetes). Other commands
# run from this image (graph-simulator, replay, produce-samples) override or disable it (docker-compose.yml).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["/usr/local/bin/capi-connector", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/capi-connector"]
CMD ["run"]
