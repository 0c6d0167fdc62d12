package docker

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/go-multistage/multistage/internal/proc"
	"github.com/go-multistage/multistage/internal/versions"
)

// The buildx release that is built from source where the docker CLI has no
// buildx plugin: pinned, and why, in internal/versions/versions.txt.
const BuildxModule = "github.com/docker/buildx/cmd/buildx"

var BuildxVersion = versions.Of("buildx")

// FindBuilder chooses how images are built, in this order:
//
//  1. BUILDX (in c.Env), the path of a buildx binary;
//  2. the docker CLI's buildx plugin (docker buildx build);
//  3. buildx BuildxVersion built once from source into cacheDir with the
//     local Go toolchain (about two minutes; the one line logged says so).
//
// Every one of them uses the engine's own BuildKit (the "docker" driver), so
// locally tagged base images are used as they are and nothing is pulled.
// There is no legacy-builder fallback: the Dockerfiles use BuildKit's cache
// and bind mounts, and the error says how to get BuildKit.
func (c *Client) FindBuilder(ctx context.Context, cacheDir string, log io.Writer) error {
	if found, err := c.LookupBuilder(ctx, cacheDir); found || err != nil {
		return err
	}
	bin := c.cachedBuildx(cacheDir)
	fmt.Fprintf(log, "BuildKit: the docker CLI has no buildx plugin; building buildx %s from source into %s (once, about two minutes)\n", BuildxVersion, filepath.Dir(bin))
	if err := c.installBuildx(ctx, bin); err != nil {
		return fmt.Errorf("BuildKit is needed (the Dockerfiles use cache and bind mounts) and the docker CLI has no buildx plugin; "+
			"building buildx %s from source failed. Install the docker-buildx-plugin package, or set BUILDX to a buildx binary: %w", BuildxVersion, err)
	}
	c.Builder = []string{bin, "build"}
	return nil
}

// LookupBuilder is FindBuilder without building anything: it says whether
// one of the three is there already (BUILDX, the plugin, buildx built into
// cacheDir before), and chooses it. Its error is BUILDX's that does not
// run. It asks nothing of the engine, so it can run beside the first ping.
func (c *Client) LookupBuilder(ctx context.Context, cacheDir string) (bool, error) {
	if p := c.Getenv("BUILDX"); p != "" {
		if _, err := c.child(ctx, proc.Cmd{Args: []string{p, "version"}}); err != nil {
			return false, fmt.Errorf("BUILDX=%q does not run: %w", p, err)
		}
		c.Builder = []string{p, "build"}
		return true, nil
	}
	if _, err := c.cmd(ctx, "buildx", "version"); err == nil {
		c.Builder = []string{c.Docker, "buildx", "build"}
		return true, nil
	}
	if bin := c.cachedBuildx(cacheDir); fileExists(bin) {
		c.Builder = []string{bin, "build"}
		return true, nil
	}
	return false, nil
}

func (c *Client) cachedBuildx(cacheDir string) string {
	return filepath.Join(cacheDir, "buildx-"+BuildxVersion, "buildx")
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// installBuildx builds buildx into a temporary directory beside bin and
// renames it into place, so a concurrent or interrupted run never sees half
// a binary.
func (c *Client) installBuildx(ctx context.Context, bin string) error {
	dir := filepath.Dir(bin)
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".buildx-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if _, err = c.Run(ctx, buildxInstall(tmp)); err != nil {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, statErr := os.Stat(bin); statErr == nil {
			return nil // a concurrent run got there first
		}
		return err
	}
	return nil
}

// buildxInstall is the command that builds buildx BuildxVersion into the
// directory gobin.
func buildxInstall(gobin string) proc.Cmd {
	return proc.Cmd{
		// -s -w: no symbol table or DWARF, which only a debugger reads;
		// writing them is a good part of linking a binary of buildx's size.
		Args: []string{"go", "install", "-ldflags=-s -w", BuildxModule + "@" + BuildxVersion},
		Env:  []string{"GOBIN=" + gobin, "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false"},
	}
}

// BuildKit is the buildx builder the builds run on, as `buildx inspect`
// tells it.
type BuildKit struct {
	Name     string // the builder instance: "default" is the engine's own
	Driver   string // docker, docker-container, remote, kubernetes, …
	Endpoint string // its first node's endpoint, e.g. unix:///run/buildkitd.sock
	Status   string // its first node's status: running, inactive, …
	Version  string // BuildKit's version, e.g. v0.34.2; "" = not known
	// Error is what buildx said of a node it could not reach.
	Error string
}

// EngineOwn says whether the builder is the engine's own BuildKit (the
// docker driver), which sees the engine's local images. Any other builder
// (a remote buildkitd, a BuildKit container, a Kubernetes pod) sees only
// what a registry serves, and its images reach the engine through --load.
func (b BuildKit) EngineOwn() bool { return b.Driver == "docker" }

// MultipleExporters says whether the builder writes one build to two
// outputs at once (BuildKit 0.13 and later: its release notes,
// "multiple exporters"), from its Version ("v0.33.0"; Docker 20.10's
// own says "v0.8+unknown"). A version it cannot read is taken as no.
func (b BuildKit) MultipleExporters() bool {
	v, ok := strings.CutPrefix(b.Version, "v")
	if !ok {
		return false
	}
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return false
	}
	minor := parts[1] // "8+unknown" in "v0.8+unknown"
	if i := strings.IndexFunc(minor, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		minor = minor[:i]
	}
	major, err1 := strconv.Atoi(parts[0])
	n, err2 := strconv.Atoi(minor)
	if err1 != nil || err2 != nil {
		return false
	}
	return major > 0 || n >= 13
}

// String says it for a person: "buildx builder ci (remote driver,
// unix:///run/b.sock), BuildKit v0.34.2".
func (b BuildKit) String() string {
	s := "buildx builder " + b.Name + " (" + b.Driver + " driver"
	if b.EngineOwn() {
		s += ": the engine's own BuildKit"
	} else if b.Endpoint != "" {
		s += ", " + b.Endpoint
	}
	s += ")"
	if b.Version != "" {
		s += ", BuildKit " + b.Version
	}
	return s
}

// buildx is the buildx command before its subcommand: "docker buildx" for
// the CLI plugin, the binary for a standalone buildx.
func (c *Client) buildx() []string {
	if len(c.Builder) > 1 && c.Builder[len(c.Builder)-1] == "build" {
		return slices.Clone(c.Builder[:len(c.Builder)-1])
	}
	return nil
}

// BuildKit asks buildx which builder the builds run on (BUILDX_BUILDER in
// c.Env, or
// buildx's current builder) and checks that it answers, so that a builder
// that is gone is an error before anything is built, naming it. Call
// FindBuilder first.
func (c *Client) BuildKit(ctx context.Context) (BuildKit, error) {
	bx := c.buildx()
	if bx == nil {
		return BuildKit{}, errors.New("no BuildKit builder: call FindBuilder first")
	}
	name := cmp.Or(c.Getenv("BUILDX_BUILDER"), "buildx's current builder")
	inspect := func(args ...string) (BuildKit, error) {
		args = append(append(slices.Clone(bx), "inspect"), args...)
		out, err := c.child(ctx, proc.Cmd{Args: args})
		if err != nil {
			return BuildKit{}, fmt.Errorf("BuildKit builder %s does not answer (asked %s; BUILDX_BUILDER names the builder, unset it for the engine's own): %w",
				name, proc.Quote(args), err)
		}
		return ParseBuildxInspect(out)
	}
	// Without --bootstrap it answers at once: a remote builder that is gone
	// is "inactive" there, where --bootstrap would wait 20 s for it.
	b, err := inspect()
	if err != nil || b.Status == "running" {
		return b, err
	}
	if b.Driver != "remote" {
		// A BuildKit container or pod that is not up yet: start it.
		if b, err = inspect("--bootstrap"); err != nil || b.Status == "running" {
			return b, err
		}
	}
	why := cmp.Or(b.Status, "no status")
	if b.Error != "" {
		why += ": " + b.Error
	}
	return b, fmt.Errorf("BuildKit builder %s (%s driver, %s) does not answer: its status is %s. Start its BuildKit, or unset BUILDX_BUILDER to build on the engine's own",
		b.Name, b.Driver, cmp.Or(b.Endpoint, "no endpoint"), why)
}

// ParseBuildxInspect reads `buildx inspect`: the builder's name and driver,
// then its first node's endpoint, status, error and BuildKit version.
func ParseBuildxInspect(out string) (BuildKit, error) {
	var b BuildKit
	node := false
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case k == "Nodes":
			node = true
		case k == "Name" && !node && b.Name == "":
			b.Name = v
		case k == "Driver" && !node:
			b.Driver = v
		case !node:
		case k == "Endpoint" && b.Endpoint == "":
			b.Endpoint = v
		case k == "Status" && b.Status == "":
			b.Status = v
		case k == "Error" && b.Error == "":
			b.Error = v
		case (k == "BuildKit version" || k == "Buildkit" || k == "BuildKit") && b.Version == "":
			b.Version = v
		}
	}
	if b.Name == "" || b.Driver == "" {
		return b, fmt.Errorf("buildx inspect: unexpected answer %.300q", out)
	}
	return b, nil
}

// BuilderError is a build that failed on a builder that is not the
// engine's own: where it failed is part of why (the builder may be gone).
type BuilderError struct {
	Builder BuildKit
	Err     error
}

func (e *BuilderError) Error() string { return "on the " + e.Builder.String() + ": " + e.Err.Error() }

func (e *BuilderError) Unwrap() error { return e.Err }
