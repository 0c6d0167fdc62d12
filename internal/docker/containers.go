package docker

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// RunContainer runs a container as s says (see RunArgs) and returns what
// docker run wrote to stdout: the program's output, or for a detached
// container its ID and a newline.
func (c *Client) RunContainer(ctx context.Context, s RunSpec) (string, error) {
	return c.cmd(ctx, RunArgs(s)...)
}

// StartContainer starts a container as s says, detached, and returns its ID.
func (c *Client) StartContainer(ctx context.Context, s RunSpec) (string, error) {
	s.Detach = true
	out, err := c.RunContainer(ctx, s)
	return strings.TrimSpace(out), err
}

// ContainerPort is the address, host:port, at which the engine publishes
// port/tcp of the container name: the first address docker port gives,
// which must be on the engine host's address (c.Endpoint.HostIP, 127.0.0.1
// when unset), the one address RunSpec.PublishIP publishes on. Any other
// answer is an error that quotes it.
func (c *Client) ContainerPort(ctx context.Context, name, port string) (string, error) {
	out, err := c.cmd(ctx, "port", name, port+"/tcp")
	if err != nil {
		return "", err
	}
	hostIP := cmp.Or(c.Endpoint.HostIP, loopback)
	addr, err := parsePort(out, hostIP)
	if err != nil {
		return "", fmt.Errorf("docker port %s %s/tcp = %q, want %s (the engine host's address, from %s)", name, port, out, net.JoinHostPort(hostIP, "<port>"), c.Endpoint)
	}
	return addr, nil
}

// parsePort is the first line of docker port's answer out when it is
// hostIP and a port.
func parsePort(out, hostIP string) (string, error) {
	addr, _, _ := strings.Cut(strings.TrimSpace(out), "\n")
	addr = strings.TrimSpace(addr)
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	if host != hostIP || port == "" {
		return "", fmt.Errorf("%q is not %s and a port", addr, hostIP)
	}
	return addr, nil
}

// ContainerIP is the address of the container name on its network (the
// bridge's, by default): reachable from the engine's host only.
func (c *Client) ContainerIP(ctx context.Context, name string) (string, error) {
	out, err := c.cmd(ctx, "inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", name)
	if err != nil {
		return "", err
	}
	ip, err := parseIP(out)
	if err != nil {
		return "", fmt.Errorf("docker inspect %s: %w", name, err)
	}
	return ip, nil
}

// parseIP reads an answer that must be one IP address.
func parseIP(out string) (string, error) {
	ip := net.ParseIP(strings.TrimSpace(out))
	if ip == nil {
		return "", fmt.Errorf("bridge address %q is not one IP address", strings.TrimSpace(out))
	}
	return ip.String(), nil
}

// MemUsage is the memory the container name uses now, as docker stats
// --no-stream says it: "<used> / <limit>", e.g. "7.422MiB / 15.55GiB".
// docker stats takes about 2 s to answer on Engine 20.10.
func (c *Client) MemUsage(ctx context.Context, name string) (string, error) {
	out, err := c.cmd(ctx, "stats", "--no-stream", "--format", "{{.MemUsage}}", name)
	if err != nil {
		return "", err
	}
	line, _, _ := strings.Cut(strings.TrimSpace(out), "\n")
	return line, nil
}

// Container is one container as docker ps lists it.
type Container struct {
	ID     string // short, as docker ps prints it
	Name   string
	Status string // e.g. "Up 3 seconds", "Exited (0) 2 minutes ago"
}

// containerListFormat is one line of docker ps per container.
const containerListFormat = "{{.ID}}\t{{.Names}}\t{{.Status}}"

// listContainersArgs is the argument list of docker ps --all with each
// filter (key=value, as docker ps --filter takes it).
func listContainersArgs(filters []string) []string {
	args := []string{"ps", "--all"}
	for _, f := range filters {
		args = append(args, "--filter", f)
	}
	return append(args, "--format", containerListFormat)
}

// parseContainerList reads the lines of containerListFormat.
func parseContainerList(out string) ([]Container, error) {
	var cs []Container
	for _, line := range strings.Split(out, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Split(strings.TrimSpace(line), "\t")
		if len(f) != 3 || f[0] == "" {
			return nil, fmt.Errorf("docker ps: unexpected line %.200q", line)
		}
		cs = append(cs, Container{ID: f[0], Name: f[1], Status: f[2]})
	}
	return cs, nil
}

// ListContainers lists the containers, running or not, that pass every
// filter ("label=k=v", "name=^/x$", "status=running"); none lists them all.
func (c *Client) ListContainers(ctx context.Context, filters ...string) ([]Container, error) {
	out, err := c.cmd(ctx, listContainersArgs(filters)...)
	if err != nil {
		return nil, err
	}
	return parseContainerList(out)
}

// WaitContainer waits until the container name stops and returns its exit code.
func (c *Client) WaitContainer(ctx context.Context, name string) (int, error) {
	out, err := c.cmd(ctx, "wait", name)
	if err != nil {
		return 0, err
	}
	code, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil {
		return 0, fmt.Errorf("docker wait %s: unexpected answer %.100q", name, out)
	}
	return code, nil
}

// StopContainer stops the container name: SIGTERM, then SIGKILL after
// timeout (whole seconds).
func (c *Client) StopContainer(ctx context.Context, name string, timeout time.Duration) error {
	_, err := c.cmd(ctx, "stop", "--time", strconv.Itoa(int(timeout/time.Second)), name)
	return err
}

// CreateContext makes the docker context name, whose engine is at host (a
// DOCKER_HOST value).
func (c *Client) CreateContext(ctx context.Context, name, host string) error {
	_, err := c.cmd(ctx, "context", "create", name, "--docker", "host="+host)
	return err
}

// RemoveContext removes the docker context name, even when it is in use.
func (c *Client) RemoveContext(ctx context.Context, name string) error {
	_, err := c.cmd(ctx, "context", "rm", "--force", name)
	return err
}
