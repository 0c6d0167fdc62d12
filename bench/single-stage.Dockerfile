# Baseline, single-stage: the original write-up's Dockerfile as a user
# would type it (copy the sources, go build, ship the toolchain image), for
# the legacy builder. RUN is in exec form so that a builder image without a
# shell works; exec form does not expand ARGs, WORKDIR does.
ARG GO_IMAGE=golang:1.26-alpine

FROM ${GO_IMAGE}
ARG APP
ENV CGO_ENABLED=0
WORKDIR /src
COPY . .
WORKDIR /src/${APP}
RUN ["go", "build", "-o", "/usr/local/bin/app", "."]
ENTRYPOINT ["/usr/local/bin/app"]
