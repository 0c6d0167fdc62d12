package docker

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/go-multistage/multistage/internal/proc"
)

// ImageRef is one image as docker image ls lists it.
type ImageRef struct {
	Ref string // repository:tag; "" for an untagged image
	ID  string // the full image ID, sha256:…
}

// ShortID is the ID as docker prints it by default: 12 hex digits.
func (r ImageRef) ShortID() string {
	hex := strings.TrimPrefix(r.ID, "sha256:")
	return hex[:min(12, len(hex))]
}

// imageListFormat is one line of docker image ls per image: "repo:tag<TAB>id".
const imageListFormat = "{{.Repository}}:{{.Tag}}\t{{.ID}}"

// listImagesArgs is the argument list of docker image ls with each filter
// (key=value, as docker image ls --filter takes it).
func listImagesArgs(filters []string) []string {
	args := []string{"image", "ls", "--no-trunc"} // full IDs, sha256:…
	for _, f := range filters {
		args = append(args, "--filter", f)
	}
	return append(args, "--format", imageListFormat)
}

// parseImageList reads the lines of imageListFormat.
func parseImageList(out string) ([]ImageRef, error) {
	var refs []ImageRef
	for _, line := range strings.Split(out, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		ref, id, ok := strings.Cut(strings.TrimSpace(line), "\t")
		if !ok || !strings.HasPrefix(id, "sha256:") || ref == "" {
			return nil, fmt.Errorf("docker image ls: unexpected line %.200q", line)
		}
		if ref == "<none>:<none>" {
			ref = ""
		}
		refs = append(refs, ImageRef{Ref: ref, ID: id})
	}
	return refs, nil
}

// ListImages lists the engine's images that pass every filter (key=value,
// as docker image ls --filter takes them: "label=k", "reference=ns/*",
// "dangling=true"); no filter lists them all.
func (c *Client) ListImages(ctx context.Context, filters ...string) ([]ImageRef, error) {
	out, err := c.cmd(ctx, listImagesArgs(filters)...)
	if err != nil {
		return nil, err
	}
	return parseImageList(out)
}

// removeImagesArgs is the argument list of docker image rm of refs.
func removeImagesArgs(refs []string, force bool) []string {
	args := []string{"image", "rm"}
	if force {
		args = append(args, "--force") // untag and remove even where a container uses it
	}
	return append(args, refs...)
}

// RemoveImages removes refs (names or IDs) in one docker call; with force,
// even an image a container uses. Removing a tag of an image that has
// others removes the tag only. No refs is no call.
func (c *Client) RemoveImages(ctx context.Context, refs []string, force bool) error {
	if len(refs) == 0 {
		return nil
	}
	_, err := c.cmd(ctx, removeImagesArgs(refs, force)...)
	return err
}

// ImageTag gives the image src names the name dst too.
func (c *Client) ImageTag(ctx context.Context, src, dst string) error {
	_, err := c.cmd(ctx, "image", "tag", src, dst)
	return err
}

// Pull pulls ref; docker's progress lines go to progress as they come.
func (c *Client) Pull(ctx context.Context, ref string, progress io.Writer) error {
	return c.stream(ctx, nil, progress, "pull", ref)
}

// Push pushes ref to its registry and returns the manifest digest the
// registry serves it by (sha256:…), read from the engine afterwards (the
// repo digest of ref's repository), not from what docker push prints.
func (c *Client) Push(ctx context.Context, ref string) (string, error) {
	if _, err := c.cmd(ctx, "push", ref); err != nil {
		return "", err
	}
	out, err := c.cmd(ctx, "image", "inspect", "--format", "{{json .RepoDigests}}", ref)
	if err != nil {
		return "", fmt.Errorf("the digest of %s, just pushed: %w", ref, err)
	}
	return pushedDigest(out, ref)
}

// pushedDigest is the digest of the repo digest, in out (the JSON list of
// docker image inspect's RepoDigests), of ref's repository.
func pushedDigest(out, ref string) (string, error) {
	var digests []string
	if err := json.Unmarshal([]byte(out), &digests); err != nil {
		return "", fmt.Errorf("docker image inspect %s: unexpected RepoDigests %.300q: %v", ref, out, err)
	}
	repo := Repository(ref)
	var found []string
	for _, rd := range digests {
		name, d, ok := strings.Cut(rd, "@")
		// The engine may write the name in full: a suffix after a slash matches.
		if ok && strings.HasPrefix(d, "sha256:") && (name == repo || strings.HasSuffix(name, "/"+repo)) && !slices.Contains(found, d) {
			found = append(found, d)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return "", fmt.Errorf("docker image inspect %s: no repo digest of %s in %.300q", ref, repo, out)
	}
	return "", fmt.Errorf("docker image inspect %s: %d repo digests of %s (%s), cannot tell which was pushed", ref, len(found), repo, strings.Join(found, ", "))
}

// Repository is ref without its digest and tag: "127.0.0.1:5000/go" for
// "127.0.0.1:5000/go:1.26@sha256:…".
func Repository(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	if i := strings.LastIndexAny(ref, ":/"); i >= 0 && ref[i] == ':' {
		ref = ref[:i]
	}
	return ref
}

// Import makes an image named ref from the root filesystem tar that r
// gives, with the Dockerfile-style config changes ("ENV K=v", "LABEL k=v").
func (c *Client) Import(ctx context.Context, r io.Reader, ref string, changes []string) error {
	return c.stream(ctx, r, nil, importArgs(ref, changes)...)
}

// importArgs is the argument list of docker import of stdin as ref.
func importArgs(ref string, changes []string) []string {
	args := []string{"import"}
	for _, ch := range changes {
		args = append(args, "--change", ch)
	}
	return append(args, "-", ref)
}

// Load loads the images of a docker save tar that r gives.
func (c *Client) Load(ctx context.Context, r io.Reader) error {
	return c.stream(ctx, r, nil, "load", "--quiet")
}

// PruneBuildCache empties the engine's whole BuildKit cache, every
// project's, and returns docker's last line ("Total reclaimed space: …").
func (c *Client) PruneBuildCache(ctx context.Context) (string, error) {
	out, err := c.cmd(ctx, "builder", "prune", "--all", "--force")
	if err != nil {
		return "", err
	}
	return proc.Tail(out, 1), nil
}
