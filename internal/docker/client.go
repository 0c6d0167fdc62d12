package docker

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/go-multistage/multistage/internal/proc"
)

// PingTimeout bounds the first question to the daemon, so that a daemon that
// does not answer is reported in seconds rather than hanging.
const PingTimeout = 10 * time.Second

// cleanupTimeout bounds the removal of a container, which runs even after
// the caller's context was cancelled.
const cleanupTimeout = 20 * time.Second

// ErrNotFound reports an image or container that does not exist.
var ErrNotFound = errors.New("not found")

// Client runs the docker CLI, and the builder that reaches BuildKit.
type Client struct {
	Docker  string   // the docker CLI
	Builder []string // the build command before its arguments, e.g. docker buildx build
	// Run starts every process: docker, buildx, and the go, git and
	// busybox commands the callers run beside them.
	Run proc.Runner
	// Env is the environment the project decides from (DOCKER_HOST,
	// DOCKER_CONTEXT, BUILDX_BUILDER, BUILDX, …); every docker and buildx
	// child gets the docker variables of it (see ChildEnv). nil is an
	// empty environment, and children inherit this process's.
	Env func(string) string
	// Endpoint is where the engine is (see Locate); errors about the
	// engine name it.
	Endpoint Endpoint
}

// ChildVars are the variables the docker CLI and buildx read that the
// project decides from too: each docker or buildx child gets them set as
// Client.Env says, so that what the project decides and what docker does
// agree whatever this process's own environment holds.
var ChildVars = []string{"DOCKER_HOST", "DOCKER_CONTEXT", "BUILDX_BUILDER"}

// New finds the docker CLI and checks that a daemon answers. It does not
// look for BuildKit: see FindBuilder. run and env are as for Find.
func New(ctx context.Context, run proc.Runner, env func(string) string) (*Client, error) {
	c, err := Find(run, env)
	if err != nil {
		return nil, err
	}
	if _, err := c.Locate(ctx); err != nil {
		return nil, err
	}
	if _, err := c.Ping(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// Find finds the docker CLI on PATH; it does not ask the daemon anything.
// run starts every process (nil is proc.Exec); env is the environment the
// project decides from (this process's, in a real run) and must be given.
func Find(run proc.Runner, env func(string) string) (*Client, error) {
	if env == nil {
		return nil, errors.New("docker.Find: no environment given (a real run passes this process's)")
	}
	if run == nil {
		run = proc.Exec
	}
	bin, err := exec.LookPath("docker")
	if err != nil {
		return nil, fmt.Errorf("the docker CLI is not on PATH (%v): install Docker Engine or Docker Desktop", err)
	}
	return &Client{Docker: bin, Run: run, Env: env}, nil
}

// Getenv is key's value in c.Env, "" when there is no Env.
func (c *Client) Getenv(key string) string {
	if c.Env == nil {
		return ""
	}
	return c.Env(key)
}

// ChildEnv is what a docker or buildx child is given on top of this
// process's environment: each of ChildVars as KEY=value, from c.Env, set
// even when empty (an empty value is unset to docker and buildx). It is
// nil when c has no Env.
func (c *Client) ChildEnv() []string {
	if c.Env == nil {
		return nil
	}
	env := make([]string, len(ChildVars))
	for i, k := range ChildVars {
		env[i] = k + "=" + c.Env(k)
	}
	return env
}

// child runs cmd, a docker or buildx command (program first), with
// ChildEnv before cmd's own Env.
func (c *Client) child(ctx context.Context, cmd proc.Cmd) (string, error) {
	cmd.Env = append(c.ChildEnv(), cmd.Env...)
	return c.Run(ctx, cmd)
}

// Ping returns the engine's version, or an error within PingTimeout when no
// daemon answers.
func (c *Client) Ping(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, PingTimeout)
	defer cancel()
	out, err := c.child(ctx, proc.Cmd{Args: []string{c.Docker, "version", "--format", "{{.Server.Version}}"}})
	if err != nil {
		return "", fmt.Errorf("no Docker daemon answers at %s (waited at most %s): %s: %w", c.endpoint(), PingTimeout, c.endpoint().Fix(), err)
	}
	return strings.TrimSpace(out), nil
}

// Platform is the engine's OS and architecture as docker version says
// them, "linux/amd64": what the images it runs must be built for.
func (c *Client) Platform(ctx context.Context) (string, error) {
	out, err := c.cmd(ctx, "version", "--format", "{{.Server.Os}}/{{.Server.Arch}}")
	if err != nil {
		return "", err
	}
	p := strings.TrimSpace(out)
	if os, arch, ok := strings.Cut(p, "/"); !ok || os == "" || arch == "" || strings.Contains(arch, "/") {
		return "", fmt.Errorf("docker version: unexpected Server.Os/Server.Arch %.100q", out)
	}
	return p, nil
}

// APIVersion is the highest Engine API version the engine speaks, as
// docker version says it: "1.52". Unlike the engine's version string
// ("29.0.1", "v2.0.0-beta.24", a vendor's own), it has one shape on every
// engine; what it means is the caller's to decide.
func (c *Client) APIVersion(ctx context.Context) (string, error) {
	out, err := c.cmd(ctx, "version", "--format", "{{.Server.APIVersion}}")
	if err != nil {
		return "", err
	}
	v := strings.TrimSpace(out)
	if v == "" || strings.ContainsAny(v, " \n") {
		return "", fmt.Errorf("docker version: unexpected Server.APIVersion %.100q", out)
	}
	return v, nil
}

// cmd runs docker with args and returns its stdout.
func (c *Client) cmd(ctx context.Context, args ...string) (string, error) {
	out, err := c.child(ctx, proc.Cmd{Args: append([]string{c.Docker}, args...)})
	return out, c.engineErr(err)
}

// stream runs docker with args, with the given stdin and stdout.
func (c *Client) stream(ctx context.Context, stdin io.Reader, stdout io.Writer, args ...string) error {
	_, err := c.child(ctx, proc.Cmd{Args: append([]string{c.Docker}, args...), Stdin: stdin, Stdout: stdout})
	return c.engineErr(err)
}

// Build builds s with BuildKit and returns what the engine knows of the
// new image, its ID first.
func (c *Client) Build(ctx context.Context, s BuildSpec) (ImageInfo, error) {
	if len(c.Builder) == 0 {
		return ImageInfo{}, errors.New("no BuildKit builder: call FindBuilder first")
	}
	tmp, err := os.CreateTemp("", "multistage-iid-*")
	if err != nil {
		return ImageInfo{}, fmt.Errorf("a file for the image ID (TMPDIR=%q): %w", os.TempDir(), err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	s.IIDFile = tmp.Name()
	args := append(append([]string{}, c.Builder...), BuildArgs(s)...)
	if _, err := c.child(ctx, proc.Cmd{Args: args, Env: c.buildEnv()}); err != nil {
		return ImageInfo{}, c.engineErr(err)
	}
	id, err := os.ReadFile(s.IIDFile)
	if err != nil || !strings.HasPrefix(string(id), "sha256:") {
		return ImageInfo{}, fmt.Errorf("%s: the builder wrote no image ID to %s (%q, %v)", proc.Quote(args), s.IIDFile, id, err)
	}
	// On the containerd image store the builder writes the config's digest,
	// which the engine does not know the image by: it names it by its
	// manifest's. Ask for the ID the engine uses, by the tag just made, so
	// figures kept by image ID are found again. (The tag may have moved
	// since: the caller checks the labels it gave.) Both are asked in one
	// call, the ID's answer first.
	iid := strings.TrimSpace(string(id))
	found, err := c.InspectAll(ctx, iid, s.Tag)
	if err != nil {
		return ImageInfo{}, fmt.Errorf("the image %s just built: %w", iid, err)
	}
	if info, ok := found[iid]; ok {
		return info, nil
	}
	if info, ok := found[s.Tag]; ok {
		return info, nil
	}
	return ImageInfo{}, fmt.Errorf("the image %s just built: neither it nor %s: %w", iid, s.Tag, ErrNotFound)
}

// buildEnv is the environment a build adds to ChildEnv: buildx's git
// information off (BUILDX_GIT_INFO=false), unless the project's
// environment sets it. buildx runs git nine times a build, one after
// another before it sends the build, to record the commit and remote in a
// provenance attestation (buildx build/git.go, getGitAttributes); the
// builds ask for none (--provenance=false), so the answers change nothing
// in the image, only the build's record in BuildKit's history.
func (c *Client) buildEnv() []string {
	return []string{"BUILDX_GIT_INFO=" + cmp.Or(c.Getenv("BUILDX_GIT_INFO"), "false")}
}

// ImageInfo is the part of `docker image inspect` this project uses.
type ImageInfo struct {
	ID          string   `json:"Id"`
	RepoTags    []string `json:"RepoTags"`
	RepoDigests []string `json:"RepoDigests"` // name@digest of the manifest a registry serves
	Size        int64    `json:"Size"`
	Config      struct {
		User       string            `json:"User"`
		Labels     map[string]string `json:"Labels"`
		Entrypoint []string          `json:"Entrypoint"`
	} `json:"Config"`
	RootFS struct {
		Layers []string `json:"Layers"`
	} `json:"RootFS"`
	// The image's platform, as its config records it (OCI image spec,
	// config.json: os, architecture, variant).
	Os           string `json:"Os"`
	Architecture string `json:"Architecture"`
	Variant      string `json:"Variant"`
}

// Platform is the image's OCI platform as --platform takes it:
// "linux/amd64", "linux/arm/v7"; "" when the engine records none.
func (i ImageInfo) Platform() string {
	if i.Os == "" || i.Architecture == "" {
		return ""
	}
	p := i.Os + "/" + i.Architecture
	if i.Variant != "" {
		p += "/" + i.Variant
	}
	return p
}

// Inspect returns what the engine knows of an image, or an error wrapping
// ErrNotFound when there is no such image.
func (c *Client) Inspect(ctx context.Context, ref string) (ImageInfo, error) {
	var info ImageInfo
	out, err := c.cmd(ctx, "image", "inspect", "--format", "{{json .}}", ref)
	if err != nil {
		if isNoSuch(err) {
			return info, fmt.Errorf("image %s: %w", ref, ErrNotFound)
		}
		return info, err
	}
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		return info, fmt.Errorf("docker image inspect %s: unexpected answer %.200q: %v", ref, out, err)
	}
	if !strings.HasPrefix(info.ID, "sha256:") {
		return info, fmt.Errorf("docker image inspect %s: no image ID in %.200q", ref, out)
	}
	return info, nil
}

// InspectAll inspects refs with one docker call (a call costs tens of
// milliseconds, and a warm run asks about a dozen images). The map holds
// the refs that exist; a ref that does not is absent. Refs the answer
// cannot be matched to are inspected one by one.
func (c *Client) InspectAll(ctx context.Context, refs ...string) (map[string]ImageInfo, error) {
	found := map[string]ImageInfo{}
	if len(refs) == 0 {
		return found, nil
	}
	out, err := c.cmd(ctx, append([]string{"image", "inspect", "--format", "{{json .}}"}, refs...)...)
	var ce *proc.Error
	if err != nil && !errors.As(err, &ce) {
		return nil, err // not an answer from docker: cancelled, or no CLI
	}
	var infos []ImageInfo
	for _, line := range strings.Split(out, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var info ImageInfo
		if jerr := json.Unmarshal([]byte(line), &info); jerr != nil {
			return nil, fmt.Errorf("docker image inspect: unexpected answer %.200q: %v", line, jerr)
		}
		infos = append(infos, info)
	}
	missing := map[string]bool{}
	if ce != nil {
		// Each line ends "No such image: <ref, tag added>".
		for _, line := range strings.Split(ce.Output, "\n") {
			if i := strings.LastIndex(line, "No such image: "); i >= 0 {
				missing[strings.TrimSpace(line[i+len("No such image: "):])] = true
			}
		}
	}
	for _, ref := range refs {
		if info, ok := match(infos, ref); ok {
			found[ref] = info
			continue
		}
		if missing[withTag(ref)] {
			continue
		}
		info, err := c.Inspect(ctx, ref)
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return nil, err
		default:
			found[ref] = info
		}
	}
	return found, nil
}

// match finds the image that ref names among infos, by ID or by tag.
func match(infos []ImageInfo, ref string) (ImageInfo, bool) {
	for _, info := range infos {
		if info.ID == ref || slices.Contains(info.RepoTags, withTag(ref)) {
			return info, true
		}
	}
	return ImageInfo{}, false
}

// withTag is ref with the tag docker assumes when it has none.
func withTag(ref string) string {
	if i := strings.LastIndexAny(ref, ":/@"); i < 0 || ref[i] == '/' {
		return ref + ":latest"
	}
	return ref
}

func isNoSuch(err error) bool {
	var ce *proc.Error
	return errors.As(err, &ce) && strings.Contains(strings.ToLower(ce.Output), "no such")
}

// RemoveContainer removes a container, running or not, even when ctx was
// cancelled (clean-up must outlive the work it cleans up after). A container
// that is already gone is not an error.
func (c *Client) RemoveContainer(ctx context.Context, name string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	_, err := c.cmd(ctx, "rm", "--force", "--volumes", name)
	if err != nil && isNoSuch(err) {
		return nil
	}
	return err
}

// RemoveContainers removes every container, running or not, that has the
// label (a key, or key=value), and returns how many there were.
func (c *Client) RemoveContainers(ctx context.Context, label string) (int, error) {
	cs, err := c.ListContainers(ctx, "label="+label)
	if err != nil {
		return 0, fmt.Errorf("listing the containers labelled %s: %w", label, err)
	}
	var ids []string
	for _, ct := range cs {
		ids = append(ids, ct.ID)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	if _, err := c.cmd(ctx, append([]string{"rm", "--force", "--volumes"}, ids...)...); err != nil {
		return 0, fmt.Errorf("removing the containers labelled %s: %w", label, err)
	}
	return len(ids), nil
}

// SweepContainers removes every container that has the label, even when
// ctx was cancelled, and lists them again until none is left: a container
// whose docker run was cut short can appear after its own removal said
// "no such container".
func (c *Client) SweepContainers(ctx context.Context, label string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	for range 3 {
		n, err := c.RemoveContainers(ctx, label)
		switch {
		case err != nil && !isNoSuch(err): // one removed meanwhile is fine
			return err
		case err == nil && n == 0:
			return nil
		}
	}
	return fmt.Errorf("containers labelled %s are still there after 3 removals", label)
}

// Logs returns the last lines a container wrote, for error messages.
func (c *Client) Logs(ctx context.Context, name string) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	out, err := c.child(ctx, proc.Cmd{Args: []string{c.Docker, "logs", "--tail", "20", name}, MergeStderr: true})
	if err != nil {
		var ce *proc.Error
		if errors.As(err, &ce) {
			return ce.Output
		}
		return err.Error()
	}
	return proc.Tail(out, proc.TailLines)
}

// Save writes `docker save ref` to w: the image as a tar, in the layout of
// the engine's image store (see package image, which reads it).
func (c *Client) Save(ctx context.Context, w io.Writer, ref string) error {
	return c.stream(ctx, nil, w, "save", ref)
}

// Engine is the daemon: its version and how it stores images.
type Engine struct {
	Version string // Server.Version, e.g. "20.10.24+dfsg1"
	Driver  string // the storage driver or snapshotter, e.g. "overlay2", "overlayfs"
	Store   string // StoreClassic or StoreContainerd
}

// The image stores an engine can have.
const (
	StoreClassic    = "classic"    // the graph drivers of Docker 20.10 and every engine before 29
	StoreContainerd = "containerd" // the containerd image store (new installs of Docker 29, Docker Desktop)
)

// String says it for a person: "Docker Engine 29.0.0, containerd image store (overlayfs)".
func (e Engine) String() string {
	return fmt.Sprintf("Docker Engine %s, %s image store (%s)", e.Version, e.Store, e.Driver)
}

// Engine asks the daemon what it is (docker info).
func (c *Client) Engine(ctx context.Context) (Engine, error) {
	out, err := c.cmd(ctx, "info", "--format", "{{json .ServerVersion}}\t{{json .Driver}}\t{{json .DriverStatus}}")
	if err != nil {
		return Engine{}, err
	}
	return parseEngine(out)
}

func parseEngine(out string) (Engine, error) {
	var e Engine
	var status [][2]string
	parts := strings.Split(strings.TrimSpace(out), "\t")
	if len(parts) != 3 ||
		json.Unmarshal([]byte(parts[0]), &e.Version) != nil || e.Version == "" ||
		json.Unmarshal([]byte(parts[1]), &e.Driver) != nil ||
		json.Unmarshal([]byte(parts[2]), &status) != nil {
		return Engine{}, fmt.Errorf("docker info: unexpected answer %.200q", out)
	}
	e.Store = StoreClassic
	for _, kv := range status {
		// The containerd store reports its snapshotter as the driver.
		if kv[0] == "driver-type" && kv[1] == "io.containerd.snapshotter.v1" {
			e.Store = StoreContainerd
		}
	}
	return e, nil
}
