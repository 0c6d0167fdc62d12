// Package docker is the only code in this module that runs the docker CLI
// (and the standalone buildx binary, when that is how BuildKit is reached).
//
// Every command runs under a context, so Ctrl-C and deadlines stop it, and a
// failed command returns a *CmdError that carries the command line (quoted, so
// it can be pasted into a shell) and the last lines of its output.
// Argument lists are built by pure functions in args.go, tested without docker.
package docker
