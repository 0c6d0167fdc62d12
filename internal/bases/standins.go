package bases

import (
	"context"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"

	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/proc"
)

// goStandIn is the local Go toolchain as an image, at /usr/local/go as in
// the official images. It has no shell: the Dockerfiles use exec-form RUN.
func goStandIn(ctx context.Context, c *docker.Client) (StandIn, error) {
	out, err := c.Run(ctx, proc.Cmd{Args: []string{"go", "env", "GOROOT", "GOVERSION"}})
	if err != nil {
		return StandIn{}, fmt.Errorf("finding the local Go toolchain: %w", err)
	}
	f := strings.Fields(out)
	if len(f) != 2 {
		return StandIn{}, fmt.Errorf("go env GOROOT GOVERSION: unexpected answer %q", out)
	}
	goroot, version := f[0], f[1]
	return StandIn{
		Tag:  StandInPrefix + "/go:" + version,
		Note: "the local Go toolchain " + version + ", no shell",
		Build: func(ctx context.Context, c *docker.Client, tag string) error {
			return importGo(ctx, c, tag, goroot)
		},
	}, nil
}

func importGo(ctx context.Context, c *docker.Client, tag, goroot string) error {
	return importImage(ctx, c, tag, goConfig, func(r *rootfs) error {
		goLayout(r)
		r.copyTree(goroot, "usr/local/go")
		return nil
	})
}

// goConfig is every Go stand-in's config, as Dockerfile instructions.
var goConfig = []string{
	"ENV PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"ENV GOPATH=/go",
	"ENV GOTOOLCHAIN=local",
	"ENV HOME=/root",
	"WORKDIR /go",
}

// goLayout is every Go stand-in's root filesystem but the toolchain,
// which goes at usr/local/go.
func goLayout(r *rootfs) {
	r.dir("tmp", 0o1777)
	r.dir("root", 0o700)
	r.dir("go", 0o777)
	r.dir("usr", 0o755)
	r.dir("usr/local", 0o755)
}

// The root filesystem files every runtime stand-in has, as in alpine.
const (
	passwd = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n"
	group  = "root:x:0:root\nnobody:x:65534:\n"
	caCert = "/etc/ssl/certs/ca-certificates.crt"
)

// alpineStandIn is a small Linux root filesystem: Debian's static busybox
// (a shell and the usual tools) where it is installed, else no shell at all.
func alpineStandIn(ctx context.Context, c *docker.Client) (StandIn, error) {
	bb, version := staticBusybox(ctx, c)
	s := StandIn{
		Tag:   StandInPrefix + "/rootfs:minimal",
		Note:  "a minimal root filesystem with no shell (install busybox-static for one)",
		Build: func(ctx context.Context, c *docker.Client, tag string) error { return importRootfs(ctx, c, tag, "") },
	}
	if bb != "" {
		s.Tag, s.Note = StandInPrefix+"/busybox:"+version, "Debian's static busybox "+version
		s.Build = func(ctx context.Context, c *docker.Client, tag string) error { return importRootfs(ctx, c, tag, bb) }
	}
	return s, nil
}

// importRootfs imports the runtime stand-in, with busybox bb when it is not "".
func importRootfs(ctx context.Context, c *docker.Client, tag, bb string) error {
	var applets []string
	if bb != "" {
		out, err := c.Run(ctx, proc.Cmd{Args: []string{bb, "--list"}})
		if err != nil {
			return err
		}
		applets = strings.Fields(out)
	}
	changes := rootfsConfig
	if bb != "" {
		changes = append(slices.Clip(changes), `CMD ["/bin/sh"]`)
	}
	return importImage(ctx, c, tag, changes, func(r *rootfs) error {
		rootfsLayout(r)
		if bb != "" {
			r.copyFile(bb, "bin/busybox")
			for _, a := range applets {
				if a != "busybox" {
					r.symlink("bin/"+a, "busybox")
				}
			}
		}
		return nil
	})
}

// rootfsConfig is every runtime stand-in's config, as Dockerfile instructions.
var rootfsConfig = []string{"ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}

// rootfsLayout is every runtime stand-in's root filesystem but busybox:
// the directories, users and CA certificates (this machine's, where it has
// them) of a small Linux.
func rootfsLayout(r *rootfs) {
	for _, d := range []string{"bin", "etc", "etc/ssl", "etc/ssl/certs", "sbin", "usr", "usr/bin", "usr/local", "usr/local/bin"} {
		r.dir(d, 0o755)
	}
	r.dir("root", 0o700)
	r.dir("tmp", 0o1777)
	r.file("etc/passwd", 0o644, passwd)
	r.file("etc/group", 0o644, group)
	if _, err := os.Stat(caCert); err == nil {
		r.copyFile(caCert, strings.TrimPrefix(caCert, "/"))
	}
}

// staticBusybox returns the path and version of a statically linked busybox
// on this machine, or "" when there is none (a dynamic one would not run in
// an empty root filesystem).
func staticBusybox(ctx context.Context, c *docker.Client) (path, version string) {
	path, err := exec.LookPath("busybox")
	if err != nil {
		return "", ""
	}
	f, err := elf.Open(path)
	if err != nil {
		return "", ""
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return "", ""
		}
	}
	// The banner's first line: "BusyBox v1.35.0 (Debian 1:1.35.0-4+deb12u1+b1) multi-call binary."
	out, _ := c.Run(ctx, proc.Cmd{Args: []string{path}})
	f2 := strings.Fields(firstLine(out))
	if len(f2) < 2 || f2[0] != "BusyBox" {
		return "", ""
	}
	return path, strings.TrimPrefix(f2[1], "v")
}
