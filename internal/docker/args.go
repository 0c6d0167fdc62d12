package docker

import (
	"encoding/csv"
	"sort"
	"strings"
)

// BuildSpec is one image build, as plain data.
type BuildSpec struct {
	Context    string            // the build context directory
	Dockerfile string            // path to the Dockerfile
	Target     string            // the stage to build; "" builds the last one
	Tag        string            // the name the image gets, only when the build succeeds
	Args       map[string]string // --build-arg
	Labels     map[string]string // --label
	IIDFile    string            // where the builder writes the image ID
	// Platform is the OCI platform to build for ("linux/arm64", as
	// --platform takes it); "" is the builder's own, with no --platform.
	Platform string
	// Layout is a directory the builder also writes the image to, as an OCI
	// image layout (OCI image spec, image-layout.md), beside loading it
	// into the engine: BuildKit's oci exporter with tar=false, which adds
	// the image to the layout's index.json under its tag and writes only
	// the blobs the layout lacks. Two exporters at once need BuildKit 0.13
	// or later (see BuildKit.MultipleExporters). "": loaded only.
	Layout string
}

// BuildArgs is the argument list for a BuildKit build of s, after the
// builder's own command (for example "docker buildx build").
func BuildArgs(s BuildSpec) []string {
	load := []string{"--load"} // into the engine's image store, where docker run finds it
	if s.Layout != "" {
		// --load is --output type=docker; the layout is a second output.
		load = []string{"--output", "type=docker", "--output", csvRecord("type=oci", "dest="+s.Layout, "tar=false")}
	}
	args := append([]string{
		"--progress=plain", // plain text, so a failure's last lines are readable
	}, load...)
	args = append(args,
		// No attestation manifest: on the containerd image store it would make
		// every image an index whose ID changes with each build's timestamps,
		// and the classic store cannot keep one. The image is the same on both.
		"--provenance=false",
		"--file", s.Dockerfile,
		"--tag", s.Tag,
		"--iidfile", s.IIDFile,
	)
	if s.Target != "" {
		args = append(args, "--target", s.Target)
	}
	if s.Platform != "" {
		args = append(args, "--platform", s.Platform)
	}
	for _, k := range sortedKeys(s.Args) {
		args = append(args, "--build-arg", k+"="+s.Args[k])
	}
	for _, k := range sortedKeys(s.Labels) {
		args = append(args, "--label", k+"="+s.Labels[k])
	}
	return append(args, s.Context)
}

// csvRecord joins fields as one CSV record, as buildx reads --output:
// a field with a comma or a quote in it is quoted.
func csvRecord(fields ...string) string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write(fields) // a strings.Builder does not fail
	w.Flush()
	return strings.TrimSuffix(b.String(), "\n")
}

// RunSpec is one container run, as plain data.
type RunSpec struct {
	Image   string
	Name    string            // unique, so that clean-up removes exactly this container
	Labels  map[string]string // find every container the project started
	Detach  bool
	Publish string // container port to publish at a free host port, e.g. "8080"
	// PublishIP is the one host address the port is published on: the
	// engine host's address that this machine reaches (Endpoint.HostIP);
	// "" is 127.0.0.1.
	PublishIP string
	Network   string            // --network; "" is docker's default bridge
	Env       map[string]string // --env
	Hardened  bool              // read-only root, no capabilities, no privilege escalation
	// Platform is the platform the image is for, when that is not the
	// engine's own ("linux/arm64"): the engine checks the image is of it,
	// and runs it under emulation. "": no --platform.
	Platform string
	// Keep leaves out --rm: the container stays once it exits, so that its
	// exit code can be read (docker wait); the caller removes it.
	Keep bool
}

// RunArgs is the argument list of `docker run` for s.
func RunArgs(s RunSpec) []string {
	args := []string{
		"run", "--name", s.Name,
		"--pull", "never", // the image is local: a missing one is an error, never a request to a registry
	}
	for _, k := range sortedKeys(s.Labels) {
		args = append(args, "--label", k+"="+s.Labels[k])
	}
	// --rm for a detached server too: docker removes it when it stops, and
	// an engine that died mid-run removes it when it starts again, where no
	// clean-up of ours can reach it.
	if !s.Keep {
		args = append(args, "--rm")
	}
	if s.Detach {
		args = append(args, "--detach")
	}
	if s.Platform != "" {
		args = append(args, "--platform", s.Platform)
	}
	if s.Publish != "" {
		// One address only, host port chosen by the engine: two runs never collide.
		args = append(args, "--publish", PublishAddr(s.PublishIP)+"::"+s.Publish)
	}
	if s.Network != "" {
		args = append(args, "--network", s.Network)
	}
	for _, k := range sortedKeys(s.Env) {
		args = append(args, "--env", k+"="+s.Env[k])
	}
	if s.Hardened {
		args = append(args,
			"--read-only",
			"--cap-drop", "ALL",
			"--security-opt", "no-new-privileges",
		)
	}
	return append(args, s.Image)
}

// PublishAddr is ip as --publish takes it: IPv6 in brackets, "" as 127.0.0.1.
func PublishAddr(ip string) string {
	switch {
	case ip == "":
		return loopback
	case strings.Contains(ip, ":"):
		return "[" + ip + "]"
	}
	return ip
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
