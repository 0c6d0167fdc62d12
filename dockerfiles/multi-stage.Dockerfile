# Multi-stage: the app is built in the Go toolchain image (stage "build", line
# for line the single-stage Dockerfile, so BuildKit builds it once for both)
# and only the static binary is copied onto a small base. Pick the final
# stage with --target:
#   on-alpine   a small Linux with a shell, run as nobody
#   on-scratch  an empty base: the image is the binary and nothing else
# (A stage may not be called "scratch": FROM scratch would then name itself.)
# Build from the repository root with --build-arg APP=<the main package's folder>.
ARG GO_IMAGE=golang:1.26-alpine
ARG ALPINE_IMAGE=alpine:3.22

# The build stage runs on the build platform and cross-compiles for the
# target (GOOS and GOARCH from BuildKit's TARGETOS and TARGETARCH), so that
# an image for another platform compiles natively, not under emulation.
# Built for the build platform itself, it is the single-stage image's build.
# The Go build cache is one per platform the compiler runs on: here the
# builder's.
FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS build
ARG APP TARGETOS TARGETARCH BUILDOS BUILDARCH
ENV CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} GOTOOLCHAIN=local GOPROXY=off GOCACHE=/root/.cache/go-build/${BUILDOS}-${BUILDARCH}
WORKDIR /src/${APP}
RUN --mount=type=bind,target=/src --mount=type=cache,target=/root/.cache/go-build \
    ["go", "build", "-trimpath", "-ldflags=-s -w", "-o", "/usr/local/bin/app", "."]

FROM ${ALPINE_IMAGE} AS on-alpine
COPY --from=build /usr/local/bin/app /usr/local/bin/app
USER nobody:nobody
ENTRYPOINT ["/usr/local/bin/app"]

FROM scratch AS on-scratch
COPY --from=build /usr/local/bin/app /app
# scratch has no /etc/passwd, so the user is numeric (distroless's "nonroot").
USER 65532:65532
ENTRYPOINT ["/app"]
