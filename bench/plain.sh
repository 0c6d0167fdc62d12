#!/usr/bin/env bash
# What a user types by hand instead of `mage all`: the project's own
# Dockerfiles, built with BuildKit through buildx, every build at once, then
# every image run once and checked, every run at once. No up-to-date check,
# no report: mage bench times this against `mage all`, after an edit and
# from cold.
#
# The images are tagged under multistage/plain/ (with the project's label,
# so that `mage clean` removes them), never under the project's own tags,
# which `mage all` would then find moved and build again.
#
# Usage: bench/plain.sh [APP...]   build APP's images (hello, echo; default
#                                  both), then run and check all six
#
# Environment:
#   GO_IMAGE, ALPINE_IMAGE  the bases (default: the Dockerfiles' own);
#                           mage bench passes the ones the project resolved
#   BUILDX                  a buildx binary (default: docker buildx);
#                           mage bench passes the one the project found
#   PLAIN_RUN               labels this run's containers (default: random)
#   PLAIN_NAMESPACE         where its images are tagged (default
#                           multistage/plain; tests use one of their own)
# Prints on stdout one line per step as it ends: "build" or "run", the
# image's variant (hello/scratch), when it began and how long it took, in
# seconds after the script began. Builder output goes to stderr, for a
# failed build only. Every container it starts is removed, pass or fail.
set -euo pipefail
cd "$(dirname "$0")/.."

GO_IMAGE=${GO_IMAGE:-golang:1.26-alpine}
ALPINE_IMAGE=${ALPINE_IMAGE:-alpine:3.22}
run=${PLAIN_RUN:-$$-$RANDOM}
project_label=dev.go-multistage.project=plain
run_label=dev.go-multistage.baseline-run=$run
prefix=${PLAIN_NAMESPACE:-multistage/plain}
case $prefix in multistage/?*) ;; *)
	echo "plain.sh: PLAIN_NAMESPACE=$prefix: want multistage/<name>, so that mage clean finds its images" >&2
	exit 2
	;;
esac

if [ -n "${BUILDX:-}" ]; then
	builder=("$BUILDX" build)
else
	builder=(docker buildx build)
fi

# The six variants: name, image folder (APP), Dockerfile, --target.
variants=(
	"hello/single-stage hello single-stage -"
	"hello/alpine hello multi-stage on-alpine"
	"hello/scratch hello multi-stage on-scratch"
	"echo/single-stage echo_app single-stage -"
	"echo/alpine echo_app_multistage multi-stage on-alpine"
	"echo/scratch echo_app_multistage multi-stage on-scratch"
)

apps=("$@")
[ ${#apps[@]} -gt 0 ] || apps=(hello echo)
for a in "${apps[@]}"; do
	case $a in hello | echo) ;; *)
		echo "plain.sh: unknown app '$a': want hello or echo" >&2
		exit 2
		;;
	esac
done

tmp=$(mktemp -d)
cleanup() {
	local left
	rm -rf "$tmp"
	left=$(docker ps --all --quiet --filter "label=$run_label") || return 0
	# shellcheck disable=SC2086 # one ID a word
	[ -z "$left" ] || docker rm --force $left >/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM # and so through the EXIT trap

t0=${EPOCHREALTIME/./}
# took WHAT NAME START: the step's line, START in microseconds.
took() {
	local now=${EPOCHREALTIME/./}
	printf '%s %s %s %s\n' "$1" "$2" "$(secs $(($3 - t0)))" "$(secs $((now - $3)))"
}
secs() { printf '%d.%03d' $(($1 / 1000000)) $(($1 % 1000000 / 1000)); }

# tag NAME DIR: the image of a variant, e.g. multistage/plain/hello:scratch.
tag() { echo "$prefix/$2:${1#*/}"; }

# build NAME DIR DOCKERFILE TARGET
build() {
	local start=${EPOCHREALTIME/./} args=(--file "dockerfiles/$3.Dockerfile")
	[ "$4" = - ] || args+=(--target "$4")
	if ! "${builder[@]}" --progress=plain --load "${args[@]}" \
		--build-arg "APP=$2" --build-arg "GO_IMAGE=$GO_IMAGE" --build-arg "ALPINE_IMAGE=$ALPINE_IMAGE" \
		--label "$project_label" --tag "$(tag "$1" "$2")" . >"$tmp/build-${1/\//-}.log" 2>&1; then
		tail -n 20 "$tmp/build-${1/\//-}.log" >&2
		echo "plain.sh: building $1 failed" >&2
		return 1
	fi
	took build "$1" "$start"
}

# check_hello NAME IMAGE: its stdout must be exactly "Hello world!".
check_hello() {
	local out
	out=$(docker run --rm --name "multistage-plain-$run-${1/\//-}" --label "$project_label" --label "$run_label" "$2")
	if [ "$out" != "Hello world!" ]; then
		echo "plain.sh: $1 printed '$out', want 'Hello world!'" >&2
		return 1
	fi
}

# check_echo NAME IMAGE: started detached on a loopback port, one
# GET /alpacas must answer "I love alpacas!". A request the server is not
# there to answer yet (refused, timed out, or closed by the port proxy) is
# tried again for 20 s at most, as mage's own check does (verify.ReadyTimeout).
check_echo() {
	local name="multistage-plain-$run-${1/\//-}" port body= status deadline=$((SECONDS + 20))
	docker run --detach --name "$name" --label "$project_label" --label "$run_label" \
		--publish 127.0.0.1::8080 "$2" >/dev/null
	port=$(docker port "$name" 8080/tcp | head -n 1)
	port=${port##*:}
	while :; do
		status=0
		body=$(curl --silent --show-error --fail --max-time 2 "http://127.0.0.1:$port/alpacas" 2>"$tmp/curl-${1/\//-}") || status=$?
		case $status in
		7 | 28 | 52 | 56) # refused, timed out, empty reply, reset: not up yet
			[ "$SECONDS" -lt "$deadline" ] || break
			sleep 0.05
			;;
		*) break ;;
		esac
	done
	docker rm --force "$name" >/dev/null
	if [ "$status" -ne 0 ] || [ "$body" != "I love alpacas!" ]; then
		echo "plain.sh: $1 answered GET /alpacas with '$body' (curl exit $status: $(cat "$tmp/curl-${1/\//-}")), want 'I love alpacas!'" >&2
		return 1
	fi
}

# check NAME DIR
check() {
	local start=${EPOCHREALTIME/./} image
	image=$(tag "$1" "$2")
	case $1 in
	hello/*) check_hello "$1" "$image" ;;
	*) check_echo "$1" "$image" ;;
	esac || return 1
	took run "$1" "$start"
}

# every FUNC [APP...]: FUNC for each variant (of APPs, or all), at once;
# fails naming each variant whose FUNC failed.
every() {
	local f=$1 pids=() names=() failed=() v name dir file target i
	shift
	for v in "${variants[@]}"; do
		read -r name dir file target <<<"$v"
		if [ $# -gt 0 ] && [[ " $* " != *" ${name%%/*} "* ]]; then
			continue
		fi
		"$f" "$name" "$dir" "$file" "$target" &
		pids+=($!) names+=("$name")
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" || failed+=("${names[$i]}")
	done
	if [ ${#failed[@]} -gt 0 ]; then
		echo "plain.sh: $f failed for: ${failed[*]}" >&2
		return 1
	fi
}

every build "${apps[@]}"
every check
