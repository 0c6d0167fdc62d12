package bases

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/proc"
)

// ResolvePlatform is the bases for platform (e.g. "linux/arm64"), which is
// not the engine's own, given native, the bases Resolve found for the
// engine's own (before Publish: publish what it returns as native's).
//
// A real base, one a registry serves, is pinned by its repo digest,
// name@sha256:…: the repo digest of a pulled tag is its index, which
// serves every platform, and BuildKit picks platform's image from it. The
// digest is the base's ID too, as the image ID of the engine's own
// platform's image says nothing of platform's. A real base with no repo
// digest (built or imported on this engine) is an error that says what to
// do: nothing serves its image for platform.
//
// A base that is an offline stand-in on the engine's own platform is one
// for platform too, made once per engine and reused: Go's own toolchain
// for platform from the Go module proxy, and a minimal root filesystem
// with no shell for alpine. It is built by c's BuildKit builder (call
// FindBuilder first) for platform, which records the platform right on
// either image store. ResolvePlatform logs one line per stand-in.
func ResolvePlatform(ctx context.Context, c *docker.Client, platform string, native Bases, log io.Writer) (Bases, error) {
	type plan struct {
		spec    Spec
		native  Base
		standIn StandIn
	}
	plans := make([]plan, len(Specs))
	var tags []string
	for i, s := range Specs {
		b, ok := native[s.Arg]
		if !ok {
			return nil, fmt.Errorf("base image %s for %s: the engine's own platform has none to start from", s.Arg, platform)
		}
		plans[i] = plan{spec: s, native: b}
		if b.StandIn {
			si, err := s.StandInFor(ctx, c, platform)
			if err != nil {
				return nil, fmt.Errorf("base image %s: %s is an offline stand-in here, and there is none for %s: %w", s.Arg, s.Default, platform, err)
			}
			plans[i].standIn, tags = si, append(tags, si.Tag)
		}
	}
	local, err := c.InspectAll(ctx, tags...)
	if err != nil {
		return nil, fmt.Errorf("looking for the offline stand-ins for %s: %w", platform, err)
	}
	return resolveEach(len(plans), log, func(i int, log io.Writer) (Base, error) {
		p := plans[i]
		if !p.native.StandIn {
			return pinForPlatform(p.native, platform)
		}
		b, err := standInFor(ctx, c, p.spec, platform, p.standIn, local, log)
		if err != nil {
			err = fmt.Errorf("base image %s: %w", p.spec.Arg, err)
		}
		return b, err
	})
}

// standInFor is the base si stands in for s on platform, made unless the
// engine has it (local).
func standInFor(ctx context.Context, c *docker.Client, s Spec, platform string, si StandIn, local map[string]docker.ImageInfo, log io.Writer) (Base, error) {
	made := ""
	info, ok := local[si.Tag]
	if !ok {
		start := time.Now()
		var err error
		if info, err = makeStandIn(ctx, c, si); err != nil {
			if ctx.Err() != nil { // cut short, not failed
				return Base{}, fmt.Errorf("making the offline stand-in for %s on %s: %w", s.Default, platform, ctx.Err())
			}
			return Base{}, fmt.Errorf("%s is an offline stand-in here, and making the one for %s failed: %w", s.Default, platform, err)
		}
		made = fmt.Sprintf(" (made in %s)", time.Since(start).Round(100*time.Millisecond))
	}
	b := Base{Arg: s.Arg, Ref: si.Tag, ID: info.ID, Default: s.Default, StandIn: true}
	b.Digest, b.DigestKind = Pin(si.Tag, info, true)
	b.Note = "offline stand-in for " + s.Default + " on " + platform + ": " + si.Note
	fmt.Fprintf(log, "%s: %s cannot be had here for %s either; using %s, an %s%s\n", s.Arg, s.Default, platform, si.Tag, b.Note, made)
	return b, nil
}

// pinForPlatform is the real base b, which the engine has for its own
// platform, for platform: pinned by its repo digest, which is its ID too.
// It is an error when b has none: no registry serves b, so nothing serves
// its image for platform.
func pinForPlatform(b Base, platform string) (Base, error) {
	if b.DigestKind != DigestRepo {
		return b, fmt.Errorf("base image %s=%s for %s: it has no repo digest (it was built or imported on this engine, not pulled from a registry), so no registry serves its %s image. "+
			"Push it, with a %s image in it, to a registry the builder can pull from and set %s to the name@sha256:… the push gives; or leave %s out of PLATFORMS",
			b.Arg, b.Ref, platform, platform, platform, b.Arg, platform)
	}
	if !strings.Contains(b.Ref, "@") {
		b.Name, b.Ref = b.Ref, b.Ref+"@"+b.Digest
	}
	b.ID = b.Digest
	return b, nil
}

// goStandInFor is Go's own toolchain for platform, of the local
// toolchain's version, from the Go module proxy, laid out as the local one
// is in the engine's own stand-in (see goStandIn).
func goStandInFor(ctx context.Context, c *docker.Client, platform string) (StandIn, error) {
	out, err := c.Run(ctx, proc.Cmd{Args: []string{"go", "env", "GOVERSION"}})
	if err != nil {
		return StandIn{}, fmt.Errorf("finding the local Go toolchain's version: %w", err)
	}
	version := strings.TrimSpace(out)
	mod, err := toolchainModule(version, platform)
	if err != nil {
		return StandIn{}, err
	}
	suffix := platformTag(platform)
	return StandIn{
		Tag:      StandInPrefix + "/go:" + version + "-" + suffix,
		Note:     "Go's own " + version + " " + suffix + " toolchain from the Go module proxy, no shell",
		Platform: platform,
		Build: func(ctx context.Context, c *docker.Client, tag string) error {
			return buildGo(ctx, c, tag, platform, mod)
		},
	}, nil
}

// release is a Go release's version as go env GOVERSION says it, which the
// module proxy serves as golang.org/toolchain (not a devel build's).
var release = regexp.MustCompile(`^go1(\.[0-9]+){1,2}((rc|beta)[0-9]+)?$`)

// toolchainModule is the module, path@version, in which the Go module
// proxy serves Go's own release version (go1.26.8) for platform
// (linux/arm64): golang.org/toolchain@v0.0.1-go1.26.8.linux-arm64, as the
// go command downloads toolchains (GOTOOLCHAIN).
func toolchainModule(version, platform string) (string, error) {
	if !release.MatchString(version) {
		return "", fmt.Errorf("the local Go toolchain is %q, not a Go release: the Go module proxy serves releases only, as golang.org/toolchain", version)
	}
	goos, arch, ok := strings.Cut(platform, "/")
	if !ok || goos == "" || arch == "" || strings.Contains(arch, "/") {
		return "", fmt.Errorf("platform %q: Go toolchains are served for os/arch, with no variant", platform)
	}
	return "golang.org/toolchain@v0.0.1-" + version + "." + goos + "-" + arch, nil
}

// buildGo builds the Go stand-in tag for platform of the toolchain module
// mod, downloaded into the module cache if need be.
func buildGo(ctx context.Context, c *docker.Client, tag, platform, mod string) error {
	zip, err := downloadModule(ctx, c, mod)
	if err != nil {
		return err
	}
	return buildImage(ctx, c, tag, platform, goConfig, func(r *rootfs) error {
		goLayout(r)
		r.copyZip(zip, moduleZipPrefix(mod), "usr/local/go", toolchainExec)
		return nil
	})
}

// moduleZipPrefix is the directory a module zip holds mod's files under:
// "path@version/".
func moduleZipPrefix(mod string) string { return mod + "/" }

// toolchainExec says whether the toolchain file rel must be executable,
// whatever its zip says: the go command sets the same bits on a toolchain
// it downloads, as the module cache keeps none (cmd/go/internal/toolchain).
func toolchainExec(rel string) bool {
	if strings.HasPrefix(rel, "bin/") {
		return true
	}
	parts := strings.Split(rel, "/")
	return len(parts) == 4 && parts[0] == "pkg" && parts[1] == "tool"
}

// downloadModule downloads mod (path@version) into the Go module cache,
// unless it is there, and returns the path of its zip.
func downloadModule(ctx context.Context, c *docker.Client, mod string) (string, error) {
	// Outside any module: nothing but the cache is read or written.
	out, err := c.Run(ctx, proc.Cmd{Args: []string{"go", "mod", "download", "-json", mod}, Dir: os.TempDir()})
	var m struct{ Zip, Error string }
	jerr := json.Unmarshal([]byte(out), &m)
	switch {
	case m.Error != "":
		return "", fmt.Errorf("downloading %s from the Go module proxy (GOPROXY): %s", mod, m.Error)
	case err != nil:
		return "", fmt.Errorf("downloading %s from the Go module proxy (GOPROXY): %w", mod, err)
	case jerr != nil || m.Zip == "":
		return "", fmt.Errorf("go mod download -json %s: unexpected answer %.200q", mod, out)
	}
	return m.Zip, nil
}

// platformTag is platform as it ends a stand-in's tag: "linux-arm64".
func platformTag(platform string) string { return strings.ReplaceAll(platform, "/", "-") }

// alpineStandInFor is the minimal root filesystem for platform: the
// engine's own stand-in's without busybox, as there is no busybox of
// platform here. It has no program in it, so it is the same for every
// platform but for the platform its image records.
func alpineStandInFor(ctx context.Context, c *docker.Client, platform string) (StandIn, error) {
	return StandIn{
		Tag:      StandInPrefix + "/rootfs:minimal-" + platformTag(platform),
		Note:     "a minimal root filesystem with no shell (there is no " + platform + " busybox here)",
		Platform: platform,
		Build: func(ctx context.Context, c *docker.Client, tag string) error {
			return buildImage(ctx, c, tag, platform, rootfsConfig, func(r *rootfs) error {
				rootfsLayout(r)
				return nil
			})
		},
	}, nil
}

// buildImage builds the image tag for platform from the root filesystem
// that fill writes and the Dockerfile instructions config: FROM scratch,
// ADD of the root filesystem as a tar (which BuildKit unpacks, keeping
// every mode, owner and time stamp), config, and the stand-ins' label. It
// is a build, not a docker import, because only a build records another
// platform than the engine's on Docker 20.10's image store. The build
// context is a temporary directory, removed afterwards.
func buildImage(ctx context.Context, c *docker.Client, tag, platform string, config []string, fill func(*rootfs) error) error {
	dir, err := os.MkdirTemp("", "multistage-standin-")
	if err != nil {
		return fmt.Errorf("a build context for the stand-in %s (TMPDIR=%q): %w", tag, os.TempDir(), err)
	}
	defer os.RemoveAll(dir)
	if err := writeRootfs(filepath.Join(dir, "rootfs.tar"), fill); err != nil {
		return fmt.Errorf("writing the root filesystem of the stand-in %s: %w", tag, err)
	}
	dockerfile := "# The offline stand-in " + tag + ", made by the project (internal/bases).\n" +
		"FROM scratch\nADD rootfs.tar /\n" + strings.Join(config, "\n") + "\n" + standInLabel + "\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		return err
	}
	_, err = c.Build(ctx, docker.BuildSpec{Context: dir, Dockerfile: filepath.Join(dir, "Dockerfile"), Tag: tag, Platform: platform})
	if err != nil {
		return fmt.Errorf("building the stand-in %s for %s: %w", tag, platform, err)
	}
	return nil
}

// writeRootfs writes the root filesystem that fill writes as a tar at path.
func writeRootfs(path string, fill func(*rootfs) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	fs := newRootfs(f)
	err = fill(fs)
	if err == nil {
		err = fs.Close()
	}
	return errors.Join(err, f.Close())
}
