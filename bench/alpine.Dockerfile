# Baseline, multi-stage onto alpine: the build stage is the single-stage
# Dockerfile line for line, as in the original write-up, and the binary is
# copied onto alpine.
ARG GO_IMAGE=golang:1.26-alpine
ARG ALPINE_IMAGE=alpine:3.22

FROM ${GO_IMAGE} AS build
ARG APP
ENV CGO_ENABLED=0
WORKDIR /src
COPY . .
WORKDIR /src/${APP}
RUN ["go", "build", "-o", "/usr/local/bin/app", "."]

FROM ${ALPINE_IMAGE}
COPY --from=build /usr/local/bin/app /usr/local/bin/app
USER nobody:nobody
ENTRYPOINT ["/usr/local/bin/app"]
