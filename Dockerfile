# capi-connector image: a static binary on distroless, running as non-root.
#
#   docker build -t capi-connector .
#   docker run --rm -e CAPI_KAFKA_BROKERS=... -e CAPI_PIXEL_ID=... -e CAPI_ACCESS_TOKEN_FILE=/run/secrets/token capi-connector
#
# The entrypoint is the binary, so the command is a subcommand: run (default), check-config, replay,
# graph-simulator, produce-samples, preview, healthcheck, version.

# Keep the Go version in step with go.mod's `go` line (test/compose_test.go checks the major.minor). The image's
# GOTOOLCHAIN=local means an older patch than go.mod's fails the build instead of downloading a toolchain.
FROM golang:1.26 AS build
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
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/capi-connector /usr/local/bin/capi-connector
USER nonroot:nonroot
# 9464: /metrics, /healthz, /readyz of run; 8090: graph-simulator in docker-compose.yml.
EXPOSE 9464 8090
ENTRYPOINT ["/usr/local/bin/capi-connector"]
CMD ["run"]
