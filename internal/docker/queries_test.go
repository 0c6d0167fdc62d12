package docker

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-multistage/multistage/internal/proc"
)

func TestListImagesArgs(t *testing.T) {
	for _, tt := range []struct {
		description string
		filters     []string
		want        string
	}{
		{"no filter", nil, "image ls --no-trunc --format {{.Repository}}:{{.Tag}}\t{{.ID}}"},
		{"two filters, in order", []string{"label=k", "reference=ns/*"}, "image ls --no-trunc --filter label=k --filter reference=ns/* --format {{.Repository}}:{{.Tag}}\t{{.ID}}"},
	} {
		if got := strings.Join(listImagesArgs(tt.filters), " "); got != tt.want {
			t.Errorf("%s: listImagesArgs(%q) = %q, want %q", tt.description, tt.filters, got, tt.want)
		}
	}
}

func TestParseImageList(t *testing.T) {
	id := func(n string) string { return "sha256:" + strings.Repeat(n, 64) }
	for _, tt := range []struct {
		description string
		out         string
		want        []ImageRef
		wantErr     bool
	}{
		{description: "nothing", out: "\n"},
		{description: "tagged and untagged",
			out:  "multistage/hello:scratch\t" + id("1") + "\n<none>:<none>\t" + id("2") + "\n",
			want: []ImageRef{{Ref: "multistage/hello:scratch", ID: id("1")}, {Ref: "", ID: id("2")}}},
		{description: "a registry with a port", out: "127.0.0.1:5000/go:1\t" + id("3"),
			want: []ImageRef{{Ref: "127.0.0.1:5000/go:1", ID: id("3")}}},
		{description: "a short ID: --no-trunc was lost", out: "x:1\t0123456789ab", wantErr: true},
		{description: "no tab", out: "x:1 " + id("4"), wantErr: true},
	} {
		got, err := parseImageList(tt.out)
		if (err != nil) != tt.wantErr || !slices.Equal(got, tt.want) {
			t.Errorf("%s: parseImageList(%q) = %v, %v; want %v, error %v", tt.description, tt.out, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestImageRefShortID(t *testing.T) {
	if got := (ImageRef{ID: "sha256:" + strings.Repeat("ab", 32)}).ShortID(); got != "abababababab" {
		t.Errorf("ShortID() = %q, want 12 hex digits", got)
	}
}

func TestRemoveImagesArgs(t *testing.T) {
	for _, tt := range []struct {
		refs  []string
		force bool
		want  string
	}{
		{[]string{"a:1", "sha256:bb"}, false, "image rm a:1 sha256:bb"},
		{[]string{"a:1"}, true, "image rm --force a:1"},
	} {
		if got := strings.Join(removeImagesArgs(tt.refs, tt.force), " "); got != tt.want {
			t.Errorf("removeImagesArgs(%q, %v) = %q, want %q", tt.refs, tt.force, got, tt.want)
		}
	}
}

func TestRemoveImagesOfNothingRunsNothing(t *testing.T) {
	c := &Client{Docker: "docker", Run: func(_ context.Context, cmd proc.Cmd) (string, error) {
		t.Errorf("ran %q, want nothing", cmd.Args)
		return "", nil
	}}
	if err := c.RemoveImages(context.Background(), nil, true); err != nil {
		t.Error(err)
	}
}

func TestImportArgs(t *testing.T) {
	got := strings.Join(importArgs("x/go:1", []string{"ENV A=b", "LABEL k=v"}), " ")
	if want := "import --change ENV A=b --change LABEL k=v - x/go:1"; got != want {
		t.Errorf("importArgs() = %q, want %q", got, want)
	}
}

func TestPushedDigest(t *testing.T) {
	ab, cd := "sha256:"+strings.Repeat("ab", 32), "sha256:"+strings.Repeat("cd", 32)
	for _, tt := range []struct {
		description, out, ref, want, err string
	}{
		{description: "the pushed repository's", ref: "127.0.0.1:5000/multistage-standin/go:go1.26.8",
			out: `["127.0.0.1:5000/multistage-standin/go@` + ab + `"]`, want: ab},
		{description: "another registry's is not it", ref: "127.0.0.1:5000/go:1",
			out: `["10.0.0.9:5000/go@` + cd + `","127.0.0.1:5000/go@` + ab + `"]`, want: ab},
		{description: "a name the engine wrote in full", ref: "mirror/go:1",
			out: `["docker.io/mirror/go@` + ab + `"]`, want: ab},
		{description: "none of that repository", ref: "127.0.0.1:5000/go:1",
			out: `["golang@` + ab + `"]`, err: "no repo digest of 127.0.0.1:5000/go"},
		{description: "two: which was pushed cannot be told", ref: "127.0.0.1:5000/go:1",
			out: `["127.0.0.1:5000/go@` + ab + `","127.0.0.1:5000/go@` + cd + `"]`, err: "cannot tell which was pushed"},
		{description: "not JSON", ref: "x:1", out: "<no value>", err: "unexpected RepoDigests"},
		{description: "null", ref: "x:1", out: "null", err: "no repo digest"},
	} {
		got, err := pushedDigest(tt.out, tt.ref)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: pushedDigest() = %q, %v; want an error containing %q", tt.description, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: pushedDigest() = %q, %v; want %q", tt.description, got, err, tt.want)
		}
	}
}

// Push pushes, then asks the engine for the digest.
func TestPushReadsTheDigestFromTheEngine(t *testing.T) {
	digest := "sha256:" + strings.Repeat("ab", 32)
	var ran []string
	c := &Client{Docker: "docker", Run: func(_ context.Context, cmd proc.Cmd) (string, error) {
		ran = append(ran, strings.Join(cmd.Args[1:], " "))
		if cmd.Args[1] == "push" {
			return "digest: sha256:" + strings.Repeat("ff", 32) + " size: 1\n", nil // not read
		}
		return `["r:5000/go@` + digest + `"]` + "\n", nil
	}}
	got, err := c.Push(context.Background(), "r:5000/go:1")
	if err != nil || got != digest {
		t.Errorf("Push() = %q, %v; want %q", got, err, digest)
	}
	want := []string{"push r:5000/go:1", "image inspect --format {{json .RepoDigests}} r:5000/go:1"}
	if !slices.Equal(ran, want) {
		t.Errorf("ran %q, want %q", ran, want)
	}
}

func TestRepository(t *testing.T) {
	for ref, want := range map[string]string{
		"golang:1.26-alpine":                       "golang",
		"127.0.0.1:5000/go:1@sha256:ab":            "127.0.0.1:5000/go",
		"127.0.0.1:5000/go":                        "127.0.0.1:5000/go",
		"multistage/test-x/hello:scratch":          "multistage/test-x/hello",
		"alpine@sha256:" + strings.Repeat("0", 64): "alpine",
	} {
		if got := Repository(ref); got != want {
			t.Errorf("Repository(%q) = %q, want %q", ref, got, want)
		}
	}
}

func TestParsePort(t *testing.T) {
	for _, tt := range []struct {
		description, out, hostIP, want string
	}{
		{"loopback", "127.0.0.1:49153\n", "127.0.0.1", "127.0.0.1:49153"},
		{"the first of both families", "127.0.0.1:49153\n[::1]:49153\n", "127.0.0.1", "127.0.0.1:49153"},
		{"a remote engine's address", "192.0.2.7:32768\n", "192.0.2.7", "192.0.2.7:32768"},
		{"IPv6", "[fd00::7]:32768\n", "fd00::7", "[fd00::7]:32768"},
		{"empty", "", "127.0.0.1", ""},
		{"no port", "127.0.0.1:\n", "127.0.0.1", ""},
		{"all addresses", "0.0.0.0:49153\n", "127.0.0.1", ""},
		{"another host", "127.0.0.2:49153\n", "127.0.0.1", ""},
		{"docker's error", "Error: No public port '8080/tcp' published\n", "127.0.0.1", ""},
	} {
		got, err := parsePort(tt.out, tt.hostIP)
		if (err == nil) != (tt.want != "") || got != tt.want {
			t.Errorf("%s: parsePort(%q, %s) = %q, %v; want %q", tt.description, tt.out, tt.hostIP, got, err, tt.want)
		}
	}
}

// ContainerPort quotes docker's whole answer when it is not the engine
// host's address.
func TestContainerPortQuotesABadAnswer(t *testing.T) {
	c := &Client{Docker: "docker", Endpoint: Endpoint{Source: "DOCKER_HOST", Host: "tcp://192.0.2.7:2375", Remote: true, HostIP: "192.0.2.7"},
		Run: func(_ context.Context, cmd proc.Cmd) (string, error) {
			if want := []string{"docker", "port", "srv", "8080/tcp"}; !slices.Equal(cmd.Args, want) {
				t.Errorf("ran %q, want %q", cmd.Args, want)
			}
			return "127.0.0.1:49153\n", nil
		}}
	_, err := c.ContainerPort(context.Background(), "srv", "8080")
	want := `docker port srv 8080/tcp = "127.0.0.1:49153\n", want 192.0.2.7:<port>`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("ContainerPort() = %v, want an error containing %q", err, want)
	}
}

func TestParseIP(t *testing.T) {
	for _, tt := range []struct{ out, want string }{
		{"172.17.0.2\n", "172.17.0.2"},
		{"", ""},
		{"172.17.0.2172.18.0.3\n", ""}, // on two networks: no one address
	} {
		got, err := parseIP(tt.out)
		if (err == nil) != (tt.want != "") || got != tt.want {
			t.Errorf("parseIP(%q) = %q, %v; want %q", tt.out, got, err, tt.want)
		}
	}
}

func TestListContainersArgs(t *testing.T) {
	got := strings.Join(listContainersArgs([]string{"label=a=b", "status=running"}), " ")
	if want := "ps --all --filter label=a=b --filter status=running --format {{.ID}}\t{{.Names}}\t{{.Status}}"; got != want {
		t.Errorf("listContainersArgs() = %q, want %q", got, want)
	}
}

func TestParseContainerList(t *testing.T) {
	for _, tt := range []struct {
		description string
		out         string
		want        []Container
		wantErr     bool
	}{
		{description: "none", out: ""},
		{description: "two", out: "0123456789ab\tmultistage-echo-1\tUp 3 seconds\nba9876543210\tx\tExited (0) 2 minutes ago\n",
			want: []Container{{ID: "0123456789ab", Name: "multistage-echo-1", Status: "Up 3 seconds"}, {ID: "ba9876543210", Name: "x", Status: "Exited (0) 2 minutes ago"}}},
		{description: "the --quiet shape", out: "0123456789ab\n", wantErr: true},
	} {
		got, err := parseContainerList(tt.out)
		if (err != nil) != tt.wantErr || !slices.Equal(got, tt.want) {
			t.Errorf("%s: parseContainerList(%q) = %v, %v; want %v, error %v", tt.description, tt.out, got, err, tt.want, tt.wantErr)
		}
	}
}

// Each typed question is the docker command it says, and reads the answer.
func TestTypedQuestionsAskDocker(t *testing.T) {
	answers := map[string]string{
		"wait":    "137\n",
		"stats":   "7.422MiB / 15.55GiB\n",
		"inspect": "172.17.0.2\n",
		"builder": "Deleted build cache objects:\nabc\n\nTotal reclaimed space: 1.2GB\n",
		"run":     "0123456789abcdef\n",
	}
	var ran []string
	c := &Client{Docker: "docker", Run: func(_ context.Context, cmd proc.Cmd) (string, error) {
		ran = append(ran, strings.Join(cmd.Args[1:], " "))
		return answers[cmd.Args[1]], nil
	}}
	ctx := context.Background()
	if code, err := c.WaitContainer(ctx, "srv"); err != nil || code != 137 {
		t.Errorf("WaitContainer() = %d, %v; want 137", code, err)
	}
	if m, err := c.MemUsage(ctx, "srv"); err != nil || m != "7.422MiB / 15.55GiB" {
		t.Errorf("MemUsage() = %q, %v", m, err)
	}
	if ip, err := c.ContainerIP(ctx, "srv"); err != nil || ip != "172.17.0.2" {
		t.Errorf("ContainerIP() = %q, %v", ip, err)
	}
	if s, err := c.PruneBuildCache(ctx); err != nil || s != "Total reclaimed space: 1.2GB" {
		t.Errorf("PruneBuildCache() = %q, %v", s, err)
	}
	if id, err := c.StartContainer(ctx, RunSpec{Image: "img", Name: "srv"}); err != nil || id != "0123456789abcdef" {
		t.Errorf("StartContainer() = %q, %v", id, err)
	}
	for _, f := range []func() error{
		func() error { return c.StopContainer(ctx, "srv", 10*time.Second) },
		func() error { return c.ImageTag(ctx, "a:1", "r:5000/a:1") },
		func() error { return c.CreateContext(ctx, "box", "tcp://10.0.0.9:2375") },
		func() error { return c.RemoveContext(ctx, "box") },
	} {
		if err := f(); err != nil {
			t.Error(err)
		}
	}
	want := []string{
		"wait srv",
		"stats --no-stream --format {{.MemUsage}} srv",
		"inspect --format {{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}} srv",
		"builder prune --all --force",
		"run --name srv --pull never --rm --detach img",
		"stop --time 10 srv",
		"image tag a:1 r:5000/a:1",
		"context create box --docker host=tcp://10.0.0.9:2375",
		"context rm --force box",
	}
	if !slices.Equal(ran, want) {
		t.Errorf("ran\n%s\nwant\n%s", strings.Join(ran, "\n"), strings.Join(want, "\n"))
	}
}

// Every docker and buildx child gets the docker variables of the client's
// Env, set even when empty, so that this process's own cannot win; the
// go toolchain building buildx is no docker child and gets none.
func TestChildrenGetTheDockerVariablesOfEnv(t *testing.T) {
	env := map[string]string{"DOCKER_CONTEXT": "box", "BUILDX": "/opt/buildx"}
	var envs [][]string
	c := &Client{Docker: "docker", Env: func(k string) string { return env[k] }, Run: func(_ context.Context, cmd proc.Cmd) (string, error) {
		envs = append(envs, cmd.Env)
		if cmd.Args[0] == "/opt/buildx" && cmd.Args[1] == "inspect" {
			return "Name: default\nDriver: docker\nNodes:\nName: default\nEndpoint: default\nStatus: running\n", nil
		}
		return "", nil
	}}
	ctx := context.Background()
	if err := c.FindBuilder(ctx, t.TempDir(), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.BuildKit(ctx); err != nil {
		t.Fatal(err)
	}
	c.ListImages(ctx)
	want := []string{"DOCKER_HOST=", "DOCKER_CONTEXT=box", "BUILDX_BUILDER="}
	if len(envs) != 3 {
		t.Fatalf("ran %d commands, want 3 (buildx version, buildx inspect, docker image ls)", len(envs))
	}
	for i, e := range envs {
		if !slices.Equal(e, want) {
			t.Errorf("command %d ran with Env %q, want %q", i+1, e, want)
		}
	}
	if got := (&Client{}).ChildEnv(); got != nil {
		t.Errorf("ChildEnv() of a client with no Env = %q, want nil: the children inherit", got)
	}
}

func TestFindWantsAnEnvironment(t *testing.T) {
	if _, err := Find(nil, nil); err == nil || !strings.Contains(err.Error(), "no environment") {
		t.Errorf("Find(nil, nil) = %v, want an error saying the environment is missing", err)
	}
}

func TestEngineErrorWrapsTheCommandsError(t *testing.T) {
	c := &Client{Docker: "docker", Run: func(_ context.Context, cmd proc.Cmd) (string, error) {
		return "", &proc.Error{Args: cmd.Args, Output: "Cannot connect to the Docker daemon at unix:///x.sock", Err: errors.New("exit status 1")}
	}}
	_, err := c.ListImages(context.Background())
	var ee *EngineError
	var pe *proc.Error
	if !errors.As(err, &ee) || !errors.As(err, &pe) {
		t.Errorf("ListImages(no engine) = %v, want an *EngineError wrapping the *proc.Error", err)
	}
}
