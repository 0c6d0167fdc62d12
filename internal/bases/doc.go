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
package bases
