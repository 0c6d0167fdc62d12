// Package bases decides which base images the builds use.
//
// Each base is a Dockerfile build arg (GO_IMAGE, ALPINE_IMAGE) with a real
// default, overridable by an environment variable of the same name. A base
// is used when the engine has it, pulled when it can be, and otherwise,
// for a default only, replaced by an offline stand-in built from what this
// machine has: the local Go toolchain for the builder; Debian's static
// busybox (or, without it, a shell-less minimal root filesystem) for alpine.
// Stand-ins are tagged under StandInPrefix, never golang: or alpine:, and
// every build records the base it really used.
//
// For another platform than the engine's (ResolvePlatform), a real base is
// pinned by its repo digest, which serves every platform, and a stand-in
// has a stand-in of that platform: Go's own toolchain for it from the Go
// module proxy, and a minimal root filesystem, built for it by BuildKit.
package bases
