#!/usr/bin/env bash
# The baseline `mage bench` measures the project against: the original
# write-ups' steps, typed one by one. For each of the six images: a plain
# build with the engine's default builder from the naive Dockerfiles beside
# this script (no cache mounts), then a `docker run` that checks it works.
#
# The default builder is what `docker build` gives a user of this engine:
# the legacy builder on engines older than 23 (DOCKER_BUILDKIT=0 docker
# build), BuildKit on 23 and later, reached through buildx as the project
# reaches it ($BUILDX, else the docker CLI's buildx plugin). mage bench
# decides which from the engine's API version and says so in
# BASELINE_BUILDER; this script does not decide it again.
#
# The context is the repository root, as the user has it. The legacy builder
# reads only the .dockerignore at the context root (it ignores a
# <name>.Dockerfile.dockerignore beside the Dockerfile), so the root's
# allowlist applies here as it does to the project's builds: both sides
# send the same small context.
#
# Usage: bench/baseline.sh            build and run the six images
#        bench/baseline.sh --builder  print the builder line (below), and exit
#
# Environment:
#   BASELINE_BUILDER        legacy or buildkit: the engine's default builder
#                           (required; mage bench decides it)
#   GO_IMAGE, ALPINE_IMAGE  the bases (default: the Dockerfiles' own);
#                           mage bench passes the ones the project resolved
#   BUILDX                  a buildx binary, for BuildKit (mage bench passes
#                           the one the project found, if not the plugin)
#   BASELINE_RUN            labels this run's containers (default: random)
#   BASELINE_IDS            a file to append the ID of every image the
#                           legacy builder makes to, intermediate ones too,
#                           so that its untagged build stages can be removed
# Prints on stdout, first, the builder line: "legacy: <command>" or
# "buildkit: <command>"; then one line per image: name, build seconds,
# run seconds. Builder output goes to stderr. Every container it starts is
# removed.
set -euo pipefail
cd "$(dirname "$0")/.."

GO_IMAGE=${GO_IMAGE:-golang:1.26-alpine}
ALPINE_IMAGE=${ALPINE_IMAGE:-alpine:3.22}
run=${BASELINE_RUN:-$$-$RANDOM}
ids=${BASELINE_IDS:-/dev/null}
project_label=dev.go-multistage.project=baseline
run_label=dev.go-multistage.baseline-run=$run

case ${BASELINE_BUILDER:-} in
legacy)
	builder=(docker build)
	export DOCKER_BUILDKIT=0
	builder_line="legacy: DOCKER_BUILDKIT=0 docker build"
	;;
buildkit)
	if [ -n "${BUILDX:-}" ]; then
		if ! "$BUILDX" version >/dev/null; then
			echo "BUILDX=$BUILDX does not run" >&2
			exit 1
		fi
		builder=("$BUILDX" build)
	elif docker buildx version >/dev/null 2>&1; then
		builder=(docker buildx build)
	else
		echo "BASELINE_BUILDER=buildkit, and neither \$BUILDX nor the docker CLI's buildx plugin is there: install docker-buildx-plugin or set BUILDX" >&2
		exit 1
	fi
	# --load: into the engine's image store, where docker run finds it.
	builder+=(--progress=plain --load)
	builder_line="buildkit: ${builder[*]}"
	;;
*)
	echo "BASELINE_BUILDER='${BASELINE_BUILDER:-}': want legacy or buildkit, the engine's default builder (mage bench decides it from the engine's API version)" >&2
	exit 1
	;;
esac
echo "$builder_line"
[ "${1:-}" != --builder ] || exit 0

cleanup() {
	local left
	left=$(docker ps --all --quiet --filter "label=$run_label") || return 0
	[ -z "$left" ] || docker rm --force $left >/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM # and so through the EXIT trap

now_us() { echo "${EPOCHREALTIME/./}"; }
secs() { printf '%d.%02d' $(($1 / 1000000)) $(($1 % 1000000 / 10000)); }

# build TAG STYLE APP: docker build of bench/STYLE.Dockerfile for APP.
build() {
	local out status=0
	out=$("${builder[@]}" --file "bench/$2.Dockerfile" \
		--build-arg "GO_IMAGE=$GO_IMAGE" --build-arg "ALPINE_IMAGE=$ALPINE_IMAGE" \
		--build-arg "APP=$3" --label "$project_label" --tag "$1" . 2>&1) || status=$?
	printf '%s\n' "$out" >&2
	printf '%s\n' "$out" | sed -n 's/^ ---> \([0-9a-f]\{12\}\)$/\1/p' >>"$ids"
	return "$status"
}

# run_hello TAG: its stdout must be exactly "Hello world!".
run_hello() {
	local out
	out=$(docker run --rm --name "multistage-baseline-$run-$RANDOM" --label "$project_label" --label "$run_label" "$1")
	if [ "$out" != "Hello world!" ]; then
		echo "$1 printed '$out', want 'Hello world!'" >&2
		return 1
	fi
}

# http_get HOST PORT PATH: print the body of a 200 answer, read within 2 s.
http_get() {
	local resp status=0
	exec 3<>"/dev/tcp/$1/$2" || return 1
	printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$3" "$1" >&3
	IFS= read -r -t 2 -d '' resp <&3 || status=$? # 1 at the end of the answer
	exec 3<&-
	[ "$status" -le 1 ] || return 1 # timed out
	case ${resp%%$'\r'*} in "HTTP/1."?" 200 "*) ;; *) return 1 ;; esac
	printf '%s' "${resp#*$'\r\n\r\n'}"
}

# run_echo TAG: the server, published on loopback, must answer
# GET /alpacas with "I love alpacas!" within 20 s.
run_echo() {
	local name="multistage-baseline-$run-$RANDOM" addr body=
	docker run --detach --name "$name" --label "$project_label" --label "$run_label" \
		--publish 127.0.0.1::8080 "$1" >/dev/null
	addr=$(docker port "$name" 8080/tcp | head -n 1)
	for _ in $(seq 200); do
		body=$(http_get 127.0.0.1 "${addr##*:}" /alpacas 2>/dev/null) && [ "$body" = "I love alpacas!" ] && break
		sleep 0.1
	done
	docker rm --force "$name" >/dev/null
	if [ "$body" != "I love alpacas!" ]; then
		echo "$1 answered GET /alpacas with '$body', want 'I love alpacas!'" >&2
		return 1
	fi
}

# step NAME TAG STYLE APP CHECK: build, run, and say how long each took.
step() {
	local t0 t1 t2
	t0=$(now_us)
	build "$2" "$3" "$4"
	t1=$(now_us)
	"$5" "$2"
	t2=$(now_us)
	echo "$1 build $(secs $((t1 - t0))) run $(secs $((t2 - t1)))"
}

step hello/single-stage multistage-baseline/hello:single-stage single-stage hello run_hello
step hello/alpine multistage-baseline/hello:alpine alpine hello run_hello
step hello/scratch multistage-baseline/hello:scratch scratch hello run_hello
step echo/single-stage multistage-baseline/echo_app:single-stage single-stage echo_app run_echo
step echo/alpine multistage-baseline/echo_app_multistage:alpine alpine echo_app_multistage run_echo
step echo/scratch multistage-baseline/echo_app_multistage:scratch scratch echo_app_multistage run_echo
