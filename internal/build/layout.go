package build

import (
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-multistage/multistage/internal/image"
)

// seedLayout starts the OCI image layout dst with hard links to the blobs
// the layout prev holds for its images (see image.LayoutBlobs). BuildKit's
// oci exporter writes no blob its destination already holds: its client's
// content store, containerd's local store, refuses a writer for a digest
// it has, and the exporter takes that as done. A build on a base that did
// not change then writes its new blobs only, not again the base's (about
// 80 MB of Go toolchain under a single-stage image). A blob that cannot be
// linked is left for BuildKit to write; what is linked is read, where it is
// read at all, against its digest and diff ID as any other (see
// image.FromLayout). Each build still has a layout of its own: BuildKit's
// client locks a blob it ingests within its own process only.
func seedLayout(dst, prev string) {
	blobs, err := image.LayoutBlobs(prev)
	if err != nil || len(blobs) == 0 {
		return
	}
	dir := filepath.Join(dst, "blobs", "sha256")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return
	}
	for _, d := range blobs {
		hex := strings.TrimPrefix(d, "sha256:")
		os.Link(filepath.Join(prev, "blobs", "sha256", hex), filepath.Join(dir, hex))
	}
}

// KeepLayouts keeps the OCI image layout of each build under root (see
// Builder.Layout) in keep, in place of its variant's one there, for the
// variant's next build to start from (see Builder.Kept), and removes root.
// A layout without an index.json, whose build failed, is not kept. Two runs
// keeping one variant's layout at once keep either one. The error is
// root's removal's.
func KeepLayouts(root, keep string) error {
	entries, _ := os.ReadDir(root)
	if len(entries) > 0 && os.MkdirAll(keep, 0o755) == nil {
		for _, e := range entries {
			src := filepath.Join(root, e.Name())
			if _, err := os.Stat(filepath.Join(src, "index.json")); err != nil {
				continue
			}
			dst := filepath.Join(keep, e.Name())
			if err := os.RemoveAll(dst); err == nil {
				os.Rename(src, dst)
			}
		}
	}
	if err := os.RemoveAll(root); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
