package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
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
	Run     Runner
	// Endpoint is where the engine is (see Locate); errors about the
	// engine name it.
	Endpoint Endpoint
}

// New finds the docker CLI and checks that a daemon answers. It does not
// look for BuildKit: see FindBuilder.
func New(ctx context.Context) (*Client, error) {
	c, err := Find()
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

// Find finds the docker CLI; it does not ask the daemon anything.
func Find() (*Client, error) {
	bin, err := exec.LookPath("docker")
	if err != nil {
		return nil, fmt.Errorf("the docker CLI is not on PATH (%v): install Docker Engine or Docker Desktop", err)
	}
	return &Client{Docker: bin, Run: Exec}, nil
}

// Ping returns the engine's version, or an error within PingTimeout when no
// daemon answers.
func (c *Client) Ping(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, PingTimeout)
	defer cancel()
	out, err := c.Run(ctx, Cmd{Args: []string{c.Docker, "version", "--format", "{{.Server.Version}}"}})
	if err != nil {
		return "", fmt.Errorf("no Docker daemon answers at %s (waited at most %s): %s: %w", c.endpoint(), PingTimeout, c.endpoint().Fix(), err)
	}
	return strings.TrimSpace(out), nil
}

// Platform is the engine's OS and architecture as docker version says
// them, "linux/amd64": what the images it runs must be built for.
func (c *Client) Platform(ctx context.Context) (string, error) {
	out, err := c.Cmd(ctx, "version", "--format", "{{.Server.Os}}/{{.Server.Arch}}")
	if err != nil {
		return "", err
	}
	p := strings.TrimSpace(out)
	if os, arch, ok := strings.Cut(p, "/"); !ok || os == "" || arch == "" || strings.Contains(arch, "/") {
		return "", fmt.Errorf("docker version: unexpected Server.Os/Server.Arch %.100q", out)
	}
	return p, nil
}

// Cmd runs docker with args and returns its stdout.
func (c *Client) Cmd(ctx context.Context, args ...string) (string, error) {
	out, err := c.Run(ctx, Cmd{Args: append([]string{c.Docker}, args...)})
	return out, c.engineErr(err)
}

// Stream runs docker with args, with the given stdin and stdout.
func (c *Client) Stream(ctx context.Context, stdin io.Reader, stdout io.Writer, args ...string) error {
	_, err := c.Run(ctx, Cmd{Args: append([]string{c.Docker}, args...), Stdin: stdin, Stdout: stdout})
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
	if _, err := c.Run(ctx, Cmd{Args: args}); err != nil {
		return ImageInfo{}, c.engineErr(err)
	}
	id, err := os.ReadFile(s.IIDFile)
	if err != nil || !strings.HasPrefix(string(id), "sha256:") {
		return ImageInfo{}, fmt.Errorf("%s: the builder wrote no image ID to %s (%q, %v)", Quote(args), s.IIDFile, id, err)
	}
	// On the containerd image store the builder writes the config's digest,
	// which the engine does not know the image by: it names it by its
	// manifest's. Ask for the ID the engine uses, by the tag just made, so
	// figures kept by image ID are found again. (The tag may have moved
	// since: the caller checks the labels it gave.)
	iid := strings.TrimSpace(string(id))
	info, err := c.Inspect(ctx, iid)
	if errors.Is(err, ErrNotFound) {
		info, err = c.Inspect(ctx, s.Tag)
	}
	if err != nil {
		return ImageInfo{}, fmt.Errorf("the image %s just built: %w", iid, err)
	}
	return info, nil
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
}

// Inspect returns what the engine knows of an image, or an error wrapping
// ErrNotFound when there is no such image.
func (c *Client) Inspect(ctx context.Context, ref string) (ImageInfo, error) {
	var info ImageInfo
	out, err := c.Cmd(ctx, "image", "inspect", "--format", "{{json .}}", ref)
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
	out, err := c.Cmd(ctx, append([]string{"image", "inspect", "--format", "{{json .}}"}, refs...)...)
	var ce *CmdError
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
	var ce *CmdError
	return errors.As(err, &ce) && strings.Contains(strings.ToLower(ce.Output), "no such")
}

// RemoveContainer removes a container, running or not, even when ctx was
// cancelled (clean-up must outlive the work it cleans up after). A container
// that is already gone is not an error.
func (c *Client) RemoveContainer(ctx context.Context, name string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	_, err := c.Cmd(ctx, "rm", "--force", "--volumes", name)
	if err != nil && isNoSuch(err) {
		return nil
	}
	return err
}

// RemoveContainers removes every container, running or not, that has the
// label (a key, or key=value), and returns how many there were.
func (c *Client) RemoveContainers(ctx context.Context, label string) (int, error) {
	out, err := c.Cmd(ctx, "ps", "--all", "--quiet", "--filter", "label="+label)
	if err != nil {
		return 0, fmt.Errorf("listing the containers labelled %s: %w", label, err)
	}
	ids := strings.Fields(out)
	if len(ids) == 0 {
		return 0, nil
	}
	if _, err := c.Cmd(ctx, append([]string{"rm", "--force", "--volumes"}, ids...)...); err != nil {
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
	out, err := c.Run(ctx, Cmd{Args: []string{c.Docker, "logs", "--tail", "20", name}, MergeStderr: true})
	if err != nil {
		var ce *CmdError
		if errors.As(err, &ce) {
			return ce.Output
		}
		return err.Error()
	}
	return Tail(out, tailLines)
}

// Save writes `docker save ref` to w: the image as a tar, in the layout of
// the engine's image store (see package image, which reads it).
func (c *Client) Save(ctx context.Context, w io.Writer, ref string) error {
	return c.Stream(ctx, nil, w, "save", ref)
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

// BuildKitDefaultSince is the first Docker Engine release whose `docker
// build` uses BuildKit by default; older engines use the legacy builder.
const BuildKitDefaultSince = 23

// Major is the engine's major version: 20 for "20.10.24+dfsg1".
func (e Engine) Major() (int, error) {
	head, _, _ := strings.Cut(strings.TrimPrefix(e.Version, "v"), ".")
	n, err := strconv.Atoi(head)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("engine version %q does not start with a major version number", e.Version)
	}
	return n, nil
}

// BuildKitDefault says whether `docker build` on this engine uses BuildKit
// by default (Engine 23 and later) or the legacy builder. An engine whose
// version cannot be read is an error, not a guess.
func (e Engine) BuildKitDefault() (bool, error) {
	n, err := e.Major()
	return n >= BuildKitDefaultSince, err
}

// Engine asks the daemon what it is (docker info).
func (c *Client) Engine(ctx context.Context) (Engine, error) {
	out, err := c.Cmd(ctx, "info", "--format", "{{json .ServerVersion}}\t{{json .Driver}}\t{{json .DriverStatus}}")
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
