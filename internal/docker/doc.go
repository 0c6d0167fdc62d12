// Package docker is the only code in this module that builds the docker
// CLI's argument lists (and the standalone buildx binary's, when that is how
// BuildKit is reached): the rest of the module asks it typed questions
// (ListImages, Push, RunContainer, ContainerPort, …).
//
// Every command starts through the client's proc.Runner, under a context,
// so Ctrl-C and deadlines stop it, and a failed command returns a
// *proc.Error that carries the command line (quoted, so it can be pasted
// into a shell) and the last lines of its output. Each docker and buildx
// child gets the docker variables (ChildVars) of the client's Env, the
// environment the project decides from. Argument lists are built by pure
// functions, and answers read by parsers, tested without docker.
package docker
