package image

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
)

// ErrNotInLayout is the error of FromLayout when the layout does not hold
// the image, or not all of it.
var ErrNotInLayout = errors.New("not in the OCI image layout")

// sha256Digest is a digest as the OCI image spec writes one with the
// sha256 algorithm (descriptor.md, "Digests").
var sha256Digest = regexp.MustCompile(`^sha256:[a-f0-9]{64}$`)

// FromLayout reads the image whose manifest has the given digest from the
// OCI image layout in dir (OCI image spec, image-layout.md), as BuildKit's
// oci exporter writes one beside loading the image into the engine (see
// docker.BuildSpec.Layout). On the containerd image store the image's ID
// is its manifest's digest, and a docker save of it holds the same blobs:
// this reads them without asking the engine to export, again, the layers
// the layout already has. The manifest is checked against its digest and
// every layer against its diff ID, as Read checks a save; o is as for
// Read, its Store the engine's. The error wraps ErrNotInLayout when the
// layout lacks the manifest or a blob it names.
func FromLayout(dir, digest string, o ReadOptions) (Image, error) {
	if !sha256Digest.MatchString(digest) {
		return Image{}, fmt.Errorf("reading %s from the OCI image layout %s: not a sha256 digest", digest, dir)
	}
	blob := func(d string) string { return filepath.Join(dir, filepath.FromSlash(blobPath(d))) }
	manifest, err := readBlob(blob(digest), digest)
	if err != nil {
		return Image{}, fmt.Errorf("reading %s from the OCI image layout %s: %w", digest, dir, err)
	}
	var m ociIndex
	if err := json.Unmarshal(manifest, &m); err != nil || m.Config.Digest == "" {
		return Image{}, fmt.Errorf("reading %s from the OCI image layout %s: not an image manifest", digest, dir)
	}
	// The save FromEngine would read: the layout's marker, an index of
	// this one manifest, and the blobs the manifest names.
	index, err := json.Marshal(ociIndex{MediaType: "application/vnd.oci.image.index.v1+json",
		Manifests: []descriptor{{MediaType: m.MediaType, Digest: digest, Size: int64(len(manifest))}}})
	if err != nil {
		return Image{}, err
	}
	blobs := []string{m.Config.Digest}
	for _, l := range m.Layers {
		blobs = append(blobs, l.Digest)
	}
	for _, d := range blobs {
		if !sha256Digest.MatchString(d) {
			return Image{}, fmt.Errorf("reading %s from the OCI image layout %s: its manifest names %q, not a sha256 digest", digest, dir, d)
		}
		if _, err := os.Stat(blob(d)); err != nil {
			return Image{}, fmt.Errorf("reading %s from the OCI image layout %s: %w: blob %s: %w", digest, dir, ErrNotInLayout, d, err)
		}
	}
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(writeLayout(pw, index, digest, manifest, blobs, blob))
	}()
	img, err := Read(pr, o)
	pr.CloseWithError(errors.New("read enough"))
	if err != nil {
		return Image{}, fmt.Errorf("reading %s from the OCI image layout %s: %w", digest, dir, err)
	}
	return img, nil
}

// readBlob reads a small blob (a manifest) and checks it against its
// digest.
func readBlob(path, digest string) ([]byte, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: no blob %s", ErrNotInLayout, digest)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxMeta+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxMeta {
		return nil, fmt.Errorf("blob %s is over %d bytes: not a manifest", digest, maxMeta)
	}
	if sum := sha256.Sum256(b); "sha256:"+hex.EncodeToString(sum[:]) != digest {
		return nil, fmt.Errorf("blob %s does not hash to its name", digest)
	}
	return b, nil
}

// writeLayout writes, as one tar, the layout of one image: oci-layout,
// index.json, the manifest and the blobs, each once.
func writeLayout(w io.Writer, index []byte, digest string, manifest []byte, blobs []string, blob func(string) string) error {
	tw := tar.NewWriter(w)
	file := func(name string, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o444, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	if err := file("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)); err != nil {
		return err
	}
	if err := file("index.json", index); err != nil {
		return err
	}
	if err := file(blobPath(digest), manifest); err != nil {
		return err
	}
	seen := map[string]bool{digest: true}
	for _, d := range blobs {
		if seen[d] {
			continue
		}
		seen[d] = true
		if err := copyBlob(tw, blobPath(d), blob(d)); err != nil {
			return err
		}
	}
	return tw.Close()
}

func copyBlob(tw *tar.Writer, name, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o444, Size: info.Size(), Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	if _, err := io.CopyN(tw, f, info.Size()); err != nil {
		return fmt.Errorf("blob %s: %w", name, err)
	}
	return nil
}

// LayoutBlobs are the digests ("sha256:…") of the blobs the OCI image
// layout in dir holds for the images its index.json names: each manifest,
// and the config and layers it names, following nested indexes (OCI image
// spec, image-layout.md and image-index.md). A blob the layout lacks is
// left out. The error is for an index.json that is missing or not JSON.
func LayoutBlobs(dir string) ([]string, error) {
	index, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		return nil, err
	}
	if !json.Valid(index) {
		return nil, fmt.Errorf("%s: index.json is not JSON", dir)
	}
	path := func(d string) string { return filepath.Join(dir, filepath.FromSlash(blobPath(d))) }
	var found []string
	seen := map[string]bool{}
	// add records d when the layout holds it, once.
	add := func(d string) bool {
		if seen[d] || !sha256Digest.MatchString(d) {
			return false
		}
		seen[d] = true
		if _, err := os.Stat(path(d)); err != nil {
			return false
		}
		found = append(found, d)
		return true
	}
	var walk func(b []byte, depth int)
	walk = func(b []byte, depth int) {
		var m ociIndex
		if depth > maxLinks || json.Unmarshal(b, &m) != nil {
			return
		}
		for _, d := range m.Manifests {
			if add(d.Digest) {
				if child, err := readBlob(path(d.Digest), d.Digest); err == nil {
					walk(child, depth+1)
				}
			}
		}
		add(m.Config.Digest)
		for _, l := range m.Layers {
			add(l.Digest)
		}
	}
	walk(index, 0)
	return found, nil
}
