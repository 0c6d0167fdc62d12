# Single-stage: the app is built and shipped in the Go toolchain image.
# This is the baseline the multi-stage images are measured against: the same
# binary, built the same way, plus the toolchain it was built with.
# Build from the repository root with --build-arg APP=<the main package's folder>.
# For another platform (--platform), it must be that platform's toolchain
# image compiling for itself, under emulation where the platform is foreign:
# that is what a single-stage image is.
ARG GO_IMAGE=golang:1.26-alpine

FROM ${GO_IMAGE}
# TARGETOS and TARGETARCH are BuildKit's, of the platform built for; BUILDOS
# and BUILDARCH, of the builder's, are declared as the multi-stage file's
# build stage declares them, so that for the builder's own platform the two
# are one build, which BuildKit runs once.
ARG APP TARGETOS TARGETARCH BUILDOS BUILDARCH
# The Go build cache is one per platform the compiler runs on: here the
# target's (emulated where foreign), as a team that ships single-stage
# images has it, never filled by a faster cross-compiler.
ENV CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} GOTOOLCHAIN=local GOPROXY=off GOCACHE=/root/.cache/go-build/${TARGETOS}-${TARGETARCH}
# Exec-form RUN needs no shell (the offline stand-in builder has none) but
# does not expand ARGs; WORKDIR does, so it picks the package.
WORKDIR /src/${APP}
# Sources are bind-mounted, not copied, and the Go build cache is a cache
# mount: the image holds the toolchain and the binary, nothing else.
RUN --mount=type=bind,target=/src --mount=type=cache,target=/root/.cache/go-build \
    ["go", "build", "-trimpath", "-ldflags=-s -w", "-o", "/usr/local/bin/app", "."]
ENTRYPOINT ["/usr/local/bin/app"]
