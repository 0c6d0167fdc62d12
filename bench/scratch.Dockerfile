# Baseline, multi-stage onto scratch: the build stage is the single-stage
# Dockerfile line for line, and the binary alone is copied onto scratch.
ARG GO_IMAGE=golang:1.26-alpine

FROM ${GO_IMAGE} AS build
ARG APP
ENV CGO_ENABLED=0
WORKDIR /src
COPY . .
WORKDIR /src/${APP}
RUN ["go", "build", "-o", "/usr/local/bin/app", "."]

FROM scratch
COPY --from=build /usr/local/bin/app /app
USER 65532:65532
ENTRYPOINT ["/app"]
