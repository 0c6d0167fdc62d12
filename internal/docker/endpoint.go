package docker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/go-multistage/multistage/internal/proc"
)

// Endpoint is where the engine is, decided once per run from DOCKER_HOST
// or, when that is unset, the endpoint of the docker context the CLI uses
// (DOCKER_CONTEXT, else the current one): whether it is on this machine,
// and the address its published ports are reached at from here.
type Endpoint struct {
	// Source names where the endpoint was found, as a user would fix it:
	// "DOCKER_HOST", "DOCKER_CONTEXT=<name>" or "docker context <name>".
	Source string
	Host   string // the engine's address: unix:///var/run/docker.sock, tcp://10.213.1.2:2375, ssh://user@box
	Remote bool   // the engine runs on another host
	// HostIP is the engine host's address as seen from here, where a port
	// the engine publishes is reached: loopback for a local engine, else
	// the address Host names (resolved, if it is a name).
	HostIP string
}

// String names the endpoint as errors do: "DOCKER_HOST=tcp://10.213.1.2:2375",
// or "docker context build-box (tcp://10.213.1.2:2375)".
func (e Endpoint) String() string {
	if e.Source == "" {
		return "the docker CLI's current context"
	}
	if e.Source == "DOCKER_HOST" {
		return "DOCKER_HOST=" + e.Host
	}
	return e.Source + " (" + e.Host + ")"
}

// Describe is the first line of a run: where the engine is, and where its
// published ports are reached.
func (e Endpoint) Describe() string {
	if e.Remote {
		return fmt.Sprintf("engine: remote, at %s; published ports are reached at %s", e, e.HostIP)
	}
	return fmt.Sprintf("engine: local, at %s; published ports are reached at %s", e, e.HostIP)
}

// Fix is what to change when the engine does not answer.
func (e Endpoint) Fix() string {
	switch {
	case e.Source == "DOCKER_HOST":
		return "start the engine there, or fix DOCKER_HOST"
	case strings.HasPrefix(e.Source, "DOCKER_CONTEXT="):
		return "start the engine there, or fix DOCKER_CONTEXT or the context's endpoint (docker context inspect " + strings.TrimPrefix(e.Source, "DOCKER_CONTEXT=") + ")"
	default:
		return "start the engine there, or choose another context (docker context use, DOCKER_CONTEXT) or set DOCKER_HOST"
	}
}

// loopback is where a local engine's published ports are reached.
const loopback = "127.0.0.1"

// ParseHost says whether the engine at host (a DOCKER_HOST value) is on
// another machine, and at which address its published ports are reached
// from here. unix:// and npipe:// are this machine; tcp://, ssh:// and
// http(s):// are another unless they name a loopback address. A host
// name is resolved here (lookup bounds it), to an IPv4 address where it
// has one.
func ParseHost(host string, lookup func(string) ([]net.IP, error)) (remote bool, hostIP string, err error) {
	u, err := url.Parse(host)
	if err != nil {
		return false, "", fmt.Errorf("engine address %q: %v", host, err)
	}
	switch u.Scheme {
	case "unix", "npipe", "fd":
		return false, loopback, nil
	case "tcp", "ssh", "http", "https":
	default:
		return false, "", fmt.Errorf("engine address %q: unknown scheme %q (want unix, npipe, tcp or ssh)", host, u.Scheme)
	}
	name := u.Hostname()
	if name == "" {
		return false, "", fmt.Errorf("engine address %q names no host", host)
	}
	if name == "localhost" {
		return false, loopback, nil
	}
	ip := net.ParseIP(name)
	if ip == nil {
		ips, err := lookup(name)
		if err != nil || len(ips) == 0 {
			return false, "", fmt.Errorf("engine address %q: cannot resolve %s: %v", host, name, err)
		}
		ip = ips[0]
		for _, cand := range ips {
			if cand.To4() != nil {
				ip = cand
				break
			}
		}
	}
	if ip.IsLoopback() {
		return false, ip.String(), nil
	}
	if ip.IsUnspecified() {
		return false, "", fmt.Errorf("engine address %q: %s is not an address to dial", host, name)
	}
	return true, ip.String(), nil
}

// lookupTimeout bounds resolving the engine's host name.
const lookupTimeout = 5 * time.Second

func lookupIP(name string) ([]net.IP, error) {
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, name)
	ips := make([]net.IP, len(addrs))
	for i, a := range addrs {
		ips[i] = a.IP
	}
	return ips, err
}

// Locate decides where the engine is (see Endpoint), from DOCKER_HOST and
// DOCKER_CONTEXT as c.Env gives them, and keeps it in
// c.Endpoint. It asks the docker CLI, not the daemon: it works, and says
// what is wrong, when no engine answers.
func (c *Client) Locate(ctx context.Context) (Endpoint, error) {
	e := Endpoint{Source: "DOCKER_HOST", Host: c.Getenv("DOCKER_HOST")}
	if e.Host == "" {
		out, err := c.cmd(ctx, "context", "inspect", "--format", "{{.Name}}\t{{.Endpoints.docker.Host}}")
		if err != nil {
			what := "the current docker context"
			if n := c.Getenv("DOCKER_CONTEXT"); n != "" {
				what = "DOCKER_CONTEXT=" + n
			}
			return e, fmt.Errorf("finding the engine: DOCKER_HOST is unset and %s cannot be read: %w", what, err)
		}
		name, host, ok := strings.Cut(strings.TrimSpace(out), "\t")
		if !ok || name == "" || host == "" {
			return e, fmt.Errorf("docker context inspect: unexpected answer %.200q", out)
		}
		e.Host, e.Source = host, "docker context "+name
		if n := c.Getenv("DOCKER_CONTEXT"); n != "" {
			e.Source = "DOCKER_CONTEXT=" + n
		}
	}
	var err error
	if e.Remote, e.HostIP, err = ParseHost(e.Host, lookupIP); err != nil {
		return e, fmt.Errorf("%s: %w", e.Source, err)
	}
	c.Endpoint = e
	return e, nil
}

// EngineError is a docker command that failed because the engine did not
// answer: it names the endpoint, as the user must fix it there.
type EngineError struct {
	Endpoint Endpoint
	Err      error
}

func (e *EngineError) Error() string {
	return fmt.Sprintf("the Docker engine at %s does not answer (%s): %v", e.Endpoint, e.Endpoint.Fix(), e.Err)
}

func (e *EngineError) Unwrap() error { return e.Err }

// summary is the error in one line: the endpoint and docker's own reason.
func (e *EngineError) summary() string {
	return fmt.Sprintf("the Docker engine at %s does not answer: %s", e.Endpoint, Summary(e.Err))
}

// unreachable says whether a docker command's output means that the CLI
// could not reach the engine (not that the engine refused the request).
func unreachable(output string) bool {
	for _, s := range []string{
		"Cannot connect to the Docker daemon",
		"error during connect",
		"failed to connect to the docker API",
	} {
		if strings.Contains(output, s) {
			return true
		}
	}
	return false
}

// engineErr turns err into an *EngineError when it says the engine did
// not answer.
func (c *Client) engineErr(err error) error {
	var ce *proc.Error
	var ee *EngineError
	if err == nil || errors.As(err, &ee) || !errors.As(err, &ce) || !unreachable(ce.Output) {
		return err
	}
	return &EngineError{Endpoint: c.endpoint(), Err: err}
}

// endpoint is c.Endpoint, or where it is not located yet as much of it
// as DOCKER_HOST says.
func (c *Client) endpoint() Endpoint {
	if c.Endpoint.Source == "" {
		if h := c.Getenv("DOCKER_HOST"); h != "" {
			return Endpoint{Source: "DOCKER_HOST", Host: h}
		}
	}
	return c.Endpoint
}
