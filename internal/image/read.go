package image

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"
)

// maxMeta is the largest file of a save that is kept in memory as a
// possible config, manifest or index.
const maxMeta = 8 << 20

// entry is what one file of a save turned out to be.
type entry struct {
	size   int64 // bytes as saved
	gzip   bool  // a gzip-compressed layer
	diffID string
	layer  *Content // nil when not a layer
	meta   []byte   // a small file that is not a layer (JSON, most likely)
}

// Read reads the `docker save` stream of one image. A layer whose content
// cache has already is not listed or compressed again; a new one is stored
// in cache. Every layer is checked against the diff ID its config gives.
func Read(r io.Reader, cache Cache) (Image, error) {
	rd := reader{cache: cache, entries: map[string]*entry{}}
	defer rd.close()
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Image{}, fmt.Errorf("reading docker save: %w", err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		name := cleanPath(h.Name)
		e, err := rd.read(name, h.Size, tr)
		if err != nil {
			return Image{}, fmt.Errorf("reading docker save, %s: %w", name, err)
		}
		rd.entries[name] = e
	}
	return rd.assemble()
}

type reader struct {
	cache   Cache
	entries map[string]*entry // by path in the save
	spool   *os.File          // an uncompressed layer, to gzip once its diff ID is known
}

func (rd *reader) close() {
	if rd.spool != nil {
		rd.spool.Close()
		os.Remove(rd.spool.Name())
	}
}

// read reads one file of the save.
func (rd *reader) read(name string, size int64, r io.Reader) (*entry, error) {
	e := &entry{size: size}
	// A blob's name is its digest: a layer seen before need not be read.
	if d, ok := strings.CutPrefix(name, "blobs/sha256/"); ok {
		d = "sha256:" + d
		if diffID, ok := rd.cache.diffIDOf(d); ok {
			if c, ok := rd.cache.Load(diffID); ok {
				e.gzip, e.diffID, e.layer = true, diffID, &c
				return e, nil
			}
		}
		if c, ok := rd.cache.Load(d); ok && c.Gzip > 0 {
			e.diffID, e.layer = d, &c
			return e, nil
		}
	}
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(512)
	switch {
	case len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b:
		e.gzip = true
		return e, rd.readGzip(e, name, br)
	case len(head) == 512 && isTar(head):
		return e, rd.readTar(e, br)
	case size <= maxMeta:
		var err error
		e.meta, err = io.ReadAll(br)
		return e, err
	}
	return e, nil // something else, and big: not ours to read
}

func isTar(head []byte) bool {
	_, err := tar.NewReader(bytes.NewReader(head)).Next()
	return err == nil
}

// readGzip reads a compressed layer: its diff ID and content come from
// the uncompressed stream; what a push uploads is the blob as it is.
func (rd *reader) readGzip(e *entry, name string, r io.Reader) error {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return err
	}
	un := sha256.New()
	c, err := contents(io.TeeReader(zr, un))
	if err != nil {
		return err
	}
	if _, err := io.Copy(un, zr); err != nil {
		return err
	}
	e.diffID = digest(un)
	if old, ok := rd.cache.Load(e.diffID); ok {
		c = old // keep a gzip figure measured on another store
	} else if err := rd.cache.Store(e.diffID, c); err != nil {
		return err
	}
	e.layer = &c
	if d, ok := strings.CutPrefix(name, "blobs/sha256/"); ok {
		return rd.cache.storeDiffID("sha256:"+d, e.diffID)
	}
	return nil
}

// readTar reads an uncompressed layer. Its diff ID is known only at its
// end, so it is spooled to a file and gzipped from there when the cache
// has no gzip figure for it yet.
func (rd *reader) readTar(e *entry, r io.Reader) error {
	if rd.spool == nil {
		f, err := os.CreateTemp("", "multistage-layer-*")
		if err != nil {
			return err
		}
		rd.spool = f
	}
	if _, err := rd.spool.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if err := rd.spool.Truncate(0); err != nil {
		return err
	}
	raw := sha256.New()
	tee := io.TeeReader(r, io.MultiWriter(raw, rd.spool))
	c, err := contents(tee)
	if err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, tee); err != nil {
		return err
	}
	e.diffID = digest(raw)
	if old, ok := rd.cache.Load(e.diffID); ok && old.Gzip > 0 {
		e.layer = &old
		return nil
	}
	if _, err := rd.spool.Seek(0, io.SeekStart); err != nil {
		return err
	}
	var n counter
	zw := gzip.NewWriter(&n)
	if _, err := io.Copy(zw, rd.spool); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	c.Gzip = int64(n)
	e.layer = &c
	return rd.cache.Store(e.diffID, c)
}

// contents lists a layer tar and adds up its unpacked size.
func contents(r io.Reader) (Content, error) {
	c := Content{Files: []File{}}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Content{}, fmt.Errorf("not a layer tar: %w", err)
		}
		if h.Typeflag == tar.TypeDir {
			continue
		}
		f := File{Path: cleanPath(h.Name), Type: h.Typeflag, Mode: h.Mode & 0o7777, Link: h.Linkname}
		if h.Typeflag == tar.TypeReg || h.Typeflag == tar.TypeRegA || h.Typeflag == tar.TypeCont {
			f.Size = h.Size
		}
		if h.Typeflag == tar.TypeLink {
			f.Link = cleanPath(h.Linkname)
		}
		c.Size += size(f)
		c.Files = append(c.Files, f)
	}
	return c, nil
}

func digest(h hash.Hash) string { return "sha256:" + hex.EncodeToString(h.Sum(nil)) }

type counter int64

func (n *counter) Write(p []byte) (int, error) {
	*n += counter(len(p))
	return len(p), nil
}

// The parts of the save's metadata that are read.
type (
	legacyManifest []struct {
		Config string
		Layers []string
	}
	descriptor struct {
		MediaType string `json:"mediaType"`
		Digest    string `json:"digest"`
		Size      int64  `json:"size"`
		Platform  *struct {
			OS string `json:"os"`
		} `json:"platform"`
	}
	ociIndex struct {
		MediaType string       `json:"mediaType"`
		Manifests []descriptor `json:"manifests"`
		Config    descriptor   `json:"config"`
		Layers    []descriptor `json:"layers"`
	}
	config struct {
		RootFS struct {
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
		History []struct {
			CreatedBy  string `json:"created_by"`
			EmptyLayer bool   `json:"empty_layer"`
		} `json:"history"`
	}
)

// assemble puts the image together from the save's files: the legacy
// manifest.json where there is one (engines write it in both layouts),
// else the OCI index.
func (rd *reader) assemble() (Image, error) {
	cfgPath, layerPaths, err := rd.manifest()
	if err != nil {
		return Image{}, err
	}
	cfgEntry := rd.entries[cfgPath]
	if cfgEntry == nil || cfgEntry.meta == nil {
		return Image{}, fmt.Errorf("docker save has no config %s", cfgPath)
	}
	var cfg config
	if err := json.Unmarshal(cfgEntry.meta, &cfg); err != nil {
		return Image{}, fmt.Errorf("docker save, config %s: %w", cfgPath, err)
	}
	if len(cfg.RootFS.DiffIDs) != len(layerPaths) {
		return Image{}, fmt.Errorf("docker save: the config names %d layers, the manifest %d", len(cfg.RootFS.DiffIDs), len(layerPaths))
	}
	var img Image
	for i, p := range layerPaths {
		e := rd.entries[p]
		if e == nil || e.layer == nil {
			return Image{}, fmt.Errorf("docker save has no layer %s", p)
		}
		if e.diffID != cfg.RootFS.DiffIDs[i] {
			return Image{}, fmt.Errorf("docker save, layer %s: its content is %s, the config says %s", p, e.diffID, cfg.RootFS.DiffIDs[i])
		}
		l := Layer{DiffID: e.diffID, Content: *e.layer, Compressed: e.layer.Gzip}
		if e.gzip {
			l.Compressed = e.size
		}
		img.Layers = append(img.Layers, l)
	}
	for _, h := range cfg.History {
		img.History = append(img.History, Step{CreatedBy: h.CreatedBy, EmptyLayer: h.EmptyLayer})
	}
	return img, nil
}

// manifest returns the paths, in the save, of the image's config and layers.
func (rd *reader) manifest() (cfg string, layers []string, err error) {
	if e := rd.entries["manifest.json"]; e != nil && e.meta != nil {
		var m legacyManifest
		if err := json.Unmarshal(e.meta, &m); err != nil {
			return "", nil, fmt.Errorf("docker save, manifest.json: %w", err)
		}
		if len(m) != 1 {
			return "", nil, fmt.Errorf("docker save, manifest.json: %d images, want 1", len(m))
		}
		for _, l := range m[0].Layers {
			layers = append(layers, cleanPath(l))
		}
		return cleanPath(m[0].Config), layers, nil
	}
	e := rd.entries["index.json"]
	if e == nil || e.meta == nil {
		return "", nil, errors.New("docker save has neither manifest.json nor index.json")
	}
	var idx ociIndex
	if err := json.Unmarshal(e.meta, &idx); err != nil {
		return "", nil, fmt.Errorf("docker save, index.json: %w", err)
	}
	// Follow indexes down to the image's manifest, passing over
	// attestations (platform unknown/unknown).
	for depth := 0; len(idx.Layers) == 0 && idx.Config.Digest == ""; depth++ {
		d, ok := pick(idx.Manifests)
		if !ok || depth > 4 {
			return "", nil, errors.New("docker save, index.json: no image manifest")
		}
		blob := rd.entries[blobPath(d.Digest)]
		if blob == nil || blob.meta == nil {
			return "", nil, fmt.Errorf("docker save has no blob %s", d.Digest)
		}
		idx = ociIndex{}
		if err := json.Unmarshal(blob.meta, &idx); err != nil {
			return "", nil, fmt.Errorf("docker save, %s: %w", d.Digest, err)
		}
	}
	for _, l := range idx.Layers {
		layers = append(layers, blobPath(l.Digest))
	}
	return blobPath(idx.Config.Digest), layers, nil
}

func pick(ds []descriptor) (descriptor, bool) {
	for _, d := range ds {
		if d.Platform == nil || d.Platform.OS != "unknown" {
			return d, true
		}
	}
	return descriptor{}, false
}

func blobPath(digest string) string {
	return "blobs/sha256/" + strings.TrimPrefix(digest, "sha256:")
}
