package bases

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/go-multistage/multistage/internal/docker"
)

// RegistryEnv names the registry that bases are pushed to when the
// builder is not the engine's own and cannot see the engine's images.
const RegistryEnv = "BASE_REGISTRY"

// Publish makes every base of bs reachable by builder, a BuildKit that is
// not the engine's own and so sees no image in the engine's store. A base
// a registry serves (it has a repo digest) is used from there, pinned:
// name@digest. A base that is only in the engine's store (an offline
// stand-in, or an image no registry has) is pushed to registry
// (BASE_REGISTRY: host[:port][/path]) and used from there by digest; with
// no registry that is an error saying what to set, never a build that
// quietly cannot find its base.
func Publish(ctx context.Context, c *docker.Client, bs Bases, builder docker.BuildKit, registry string, log io.Writer) (Bases, error) {
	if err := CheckRegistry(registry); err != nil {
		return nil, err
	}
	out := Bases{}
	var mu sync.Mutex
	errs := make([]error, 0, len(bs))
	var wg sync.WaitGroup
	for _, arg := range sortedKeys(bs) {
		b := bs[arg]
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := publish(ctx, c, b, builder, registry, log)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("base image %s: %w", b.Arg, err))
				return
			}
			out[arg] = p
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// CheckRegistry checks the form of a BASE_REGISTRY value: a registry host,
// with a port and a path under it if need be, and no scheme.
func CheckRegistry(registry string) error {
	if registry == "" {
		return nil
	}
	if !registryRef.MatchString(registry) {
		return fmt.Errorf("%s=%q: want a registry host, with a port and a path if need be (127.0.0.1:5000, registry.example.com/mirror), no scheme", RegistryEnv, registry)
	}
	return nil
}

var registryRef = regexp.MustCompile(`^[a-zA-Z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)*$`)

func publish(ctx context.Context, c *docker.Client, b Base, builder docker.BuildKit, registry string, log io.Writer) (Base, error) {
	if b.DigestKind == DigestRepo {
		// A registry serves it: the builder pulls it from there, by digest.
		if !strings.Contains(b.Ref, "@") {
			b.Name, b.Ref = b.Ref, b.Ref+"@"+b.Digest
		}
		return b, nil
	}
	what := b.Ref
	if b.StandIn {
		what = "the offline stand-in " + b.Ref
	}
	if registry == "" {
		return b, fmt.Errorf("%s is only in the engine's image store, which the %s cannot see: set %s to a registry the engine can push to and that builder can pull from (for example %s=127.0.0.1:5000), and it is pushed there; or unset BUILDX_BUILDER to build on the engine's own BuildKit",
			what, builder, RegistryEnv, RegistryEnv)
	}
	name := registry + "/" + repoPath(b.Ref)
	digest, err := push(ctx, c, b.Ref, name)
	if err != nil {
		return b, fmt.Errorf("pushing %s to %s=%q (as %s), where the builder gets its bases, failed: %w",
			what, RegistryEnv, registry, name, err)
	}
	fmt.Fprintf(log, "%s: %s is in %s=%s as %s@%s, for the %s\n", b.Arg, b.Ref, RegistryEnv, registry, name, digest, builder)
	b.Name, b.Ref = name, name+"@"+digest
	b.Digest, b.DigestKind, b.Registry = digest, DigestRepo, registry
	return b, nil
}

// repoPath is ref without a registry host (the first part when it has a
// dot or a port, or is localhost) and without a digest.
func repoPath(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	if host, rest, ok := strings.Cut(ref, "/"); ok && (strings.ContainsAny(host, ".:") || host == "localhost") {
		return rest
	}
	return ref
}

// pushLock is the lock file of pushes of name, in the temporary directory
// every process of the project on this machine shares. It is there only
// while a push holds it.
func pushLock(name string) string {
	return filepath.Join(os.TempDir(), "multistage-push-"+strings.NewReplacer("/", "_", ":", "_").Replace(name)+".lock")
}

// push tags the local image ref as name, pushes it and removes that tag
// again (the engine keeps the image under its own name only), and returns
// the manifest digest the registry serves. Every process of the project on
// this machine takes one lock per name for it: another one's clean-up must
// not untag what this one is pushing.
func push(ctx context.Context, c *docker.Client, ref, name string) (string, error) {
	unlock, err := lockFile(ctx, pushLock(name))
	if err != nil {
		return "", fmt.Errorf("waiting for the lock on %s: %w", name, err)
	}
	defer unlock()
	if err := c.ImageTag(ctx, ref, name); err != nil {
		return "", err
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), pullTimeout)
		defer cancel()
		c.RemoveImages(ctx, []string{name}, false) // the tag only: ref still names the image
	}()
	pctx, cancel := context.WithTimeout(ctx, pullTimeout)
	defer cancel()
	return c.Push(pctx, name)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
