// Package proc is the one place in this module that starts processes:
// docker and buildx (through package docker), go, git, busybox and the
// bench's scripts and servers.
//
// A command is plain data (Cmd); a Runner runs it under a context, so
// Ctrl-C and deadlines stop it. Exec is the real Runner and tests swap in
// fakes. A command that fails is an *Error: the command line quoted so it
// can be pasted into a shell, the last lines of its output, and the cause.
package proc
