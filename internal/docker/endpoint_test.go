package docker

import (
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/go-multistage/multistage/internal/proc"
)

func TestParseHost(t *testing.T) {
	lookup := func(name string) ([]net.IP, error) {
		switch name {
		case "buildbox":
			return []net.IP{net.ParseIP("fd00::5"), net.ParseIP("10.213.9.2")}, nil
		case "v6only":
			return []net.IP{net.ParseIP("fd00::6")}, nil
		}
		return nil, errors.New("no such host")
	}
	tests := []struct {
		description string
		host        string
		remote      bool
		hostIP      string
		err         string
	}{
		{"the default unix socket", "unix:///var/run/docker.sock", false, "127.0.0.1", ""},
		{"a Windows named pipe", "npipe:////./pipe/docker_engine", false, "127.0.0.1", ""},
		{"tcp to another host", "tcp://10.213.1.2:2375", true, "10.213.1.2", ""},
		{"tcp to this machine's loopback", "tcp://127.0.0.1:2375", false, "127.0.0.1", ""},
		{"tcp to localhost", "tcp://localhost:2375", false, "127.0.0.1", ""},
		{"ssh with a user and a name, IPv4 preferred", "ssh://me@buildbox", true, "10.213.9.2", ""},
		{"a name with only IPv6", "tcp://v6only:2376", true, "fd00::6", ""},
		{"IPv6 literal", "tcp://[fd00::7]:2375", true, "fd00::7", ""},
		{"a name that does not resolve", "tcp://nowhere:2375", false, "", "cannot resolve nowhere"},
		{"the unspecified address", "tcp://0.0.0.0:2375", false, "", "not an address to dial"},
		{"an unknown scheme", "ftp://x", false, "", "unknown scheme"},
		{"no host", "tcp://:2375", false, "", "names no host"},
	}
	for _, tt := range tests {
		remote, ip, err := ParseHost(tt.host, lookup)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: ParseHost(%q) = %v, %q, %v; want an error containing %q", tt.description, tt.host, remote, ip, err, tt.err)
			}
			continue
		}
		if err != nil || remote != tt.remote || ip != tt.hostIP {
			t.Errorf("%s: ParseHost(%q) = %v, %q, %v; want %v, %q", tt.description, tt.host, remote, ip, err, tt.remote, tt.hostIP)
		}
	}
}

func TestEndpointNamesWhatToFix(t *testing.T) {
	tests := []struct {
		e        Endpoint
		name     string
		fix      string
		describe string
	}{
		{Endpoint{Source: "DOCKER_HOST", Host: "tcp://10.213.1.2:2375", Remote: true, HostIP: "10.213.1.2"},
			"DOCKER_HOST=tcp://10.213.1.2:2375", "fix DOCKER_HOST", "engine: remote, at DOCKER_HOST=tcp://10.213.1.2:2375; published ports are reached at 10.213.1.2"},
		{Endpoint{Source: "DOCKER_CONTEXT=box", Host: "tcp://10.213.1.2:2375", Remote: true, HostIP: "10.213.1.2"},
			"DOCKER_CONTEXT=box (tcp://10.213.1.2:2375)", "fix DOCKER_CONTEXT or the context's endpoint (docker context inspect box)", "engine: remote"},
		{Endpoint{Source: "docker context default", Host: "unix:///var/run/docker.sock", HostIP: "127.0.0.1"},
			"docker context default (unix:///var/run/docker.sock)", "choose another context", "engine: local, at docker context default (unix:///var/run/docker.sock); published ports are reached at 127.0.0.1"},
	}
	for _, tt := range tests {
		if got := tt.e.String(); got != tt.name {
			t.Errorf("%+v.String() = %q, want %q", tt.e, got, tt.name)
		}
		if got := tt.e.Fix(); !strings.Contains(got, tt.fix) {
			t.Errorf("%+v.Fix() = %q, want it to contain %q", tt.e, got, tt.fix)
		}
		if got := tt.e.Describe(); !strings.HasPrefix(got, tt.describe) {
			t.Errorf("%+v.Describe() = %q, want it to start %q", tt.e, got, tt.describe)
		}
	}
}

func TestEngineErrorNamesTheEndpoint(t *testing.T) {
	c := &Client{Docker: "docker", Endpoint: Endpoint{Source: "docker context dead", Host: "tcp://10.213.1.2:2375", Remote: true}}
	down := &proc.Error{Args: []string{"docker", "ps"}, Output: "Cannot connect to the Docker daemon at tcp://10.213.1.2:2375. Is the docker daemon running?", Err: errors.New("exit status 1")}
	err := c.engineErr(down)
	var ee *EngineError
	if !errors.As(err, &ee) {
		t.Fatalf("engineErr(daemon down) = %v, want an *EngineError", err)
	}
	for _, want := range []string{"docker context dead (tcp://10.213.1.2:2375)", "does not answer", "Cannot connect"} {
		if s := Summary(err); !strings.Contains(s, want) {
			t.Errorf("Summary = %q, want it to contain %q", s, want)
		}
	}
	if strings.Contains(err.Error(), "DOCKER_HOST is unset") {
		t.Errorf("error = %q: a context's error must not talk of DOCKER_HOST", err)
	}
	refused := &proc.Error{Args: []string{"docker", "rm", "x"}, Output: "Error response from daemon: No such container: x", Err: errors.New("exit status 1")}
	if err := c.engineErr(refused); err != error(refused) {
		t.Errorf("engineErr(an answer from the engine) = %v, want it unchanged", err)
	}
}
