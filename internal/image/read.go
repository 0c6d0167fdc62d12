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
	"path"
	"strings"

	"github.com/go-multistage/multistage/internal/docker"
	"github.com/klauspost/compress/zstd"
)

// maxMeta is the largest file of a save that is kept in memory as a
// possible config, manifest or index.
const maxMeta = 8 << 20

// maxLinks bounds the links between a save's files that one lookup follows.
const maxLinks = 8

// ReadOptions say how to read one image's save.
type ReadOptions struct {
	Ref   string // the image, for errors
	Cache Cache
	// DiffIDs are the layers the save is expected to hold, oldest first,
	// as docker image inspect gives them (.RootFS.Layers); nil = unknown.
	// With them a cached layer of the legacy layout is only hashed, not
	// listed nor compressed again (see read).
	DiffIDs []string
	// Store is the engine's image store, docker.StoreClassic or
	// docker.StoreContainerd: it decides what a push uploads, so what
	// Compressed is (see the package doc). "" = classic.
	Store string
}

// containerd says whether a push uploads the blobs as stored.
func (o ReadOptions) containerd() bool { return o.Store == docker.StoreContainerd }

// The compressions of a layer, as its first bytes tell.
const (
	kindTar  = "tar"
	kindGzip = "gzip"
	kindZstd = "zstd"
)

// entry is what one file of a save turned out to be.
type entry struct {
	size   int64 // bytes as saved
	diffID string
	layer  *Content // nil when not (yet) known as a layer
	meta   []byte   // a small file that is not a layer (JSON, most likely)
	bad    string   // why the file could not be read as a layer
	again  bool     // its hash was not what its length promised: read it again
}

// Read reads the `docker save` stream of one image. A layer whose content
// the cache already has is not listed or compressed again; a new one is
// stored in the cache. Every layer is checked against the diff ID its
// config gives. Read keeps nothing on disk but the cache: no temp files.
//
// When r can seek, a legacy layer that only looked cached (same length,
// other bytes) is read once more from the start; else, with no second
// look possible, every layer not known by its name is read in full.
func Read(r io.Reader, o ReadOptions) (Image, error) {
	var reopen func() (io.ReadCloser, error)
	if rs, ok := r.(io.ReadSeeker); ok {
		if start, err := rs.Seek(0, io.SeekCurrent); err == nil {
			reopen = func() (io.ReadCloser, error) {
				if _, err := rs.Seek(start, io.SeekStart); err != nil {
					return nil, fmt.Errorf("reading the docker save of %s again: %w", o.Ref, err)
				}
				return io.NopCloser(rs), nil
			}
		}
	}
	return read(r, reopen, o)
}

// read reads a save from r and, where a layer needs a second look, from
// what reopen returns (nil: no second look is possible).
func read(r io.Reader, reopen func() (io.ReadCloser, error), o ReadOptions) (Image, error) {
	rd := reader{o: o, entries: map[string]*entry{}, links: map[string]string{}, byLength: map[int64]map[string]Content{}}
	if reopen != nil {
		for _, d := range o.DiffIDs {
			if c, ok := rd.cached(d); ok && c.Tar > 0 {
				if rd.byLength[c.Tar] == nil {
					rd.byLength[c.Tar] = map[string]Content{}
				}
				rd.byLength[c.Tar][d] = c
			}
		}
	}
	if err := rd.pass(r, nil); err != nil {
		return Image{}, err
	}
	again := map[string]bool{}
	for name, e := range rd.entries {
		if e.again {
			again[name] = true
		}
	}
	if len(again) > 0 {
		// Only a reader that can look again hashes without listing.
		r2, err := reopen()
		if err != nil {
			return Image{}, err
		}
		rd.byLength = nil
		err = rd.pass(r2, again)
		if err = errors.Join(err, r2.Close()); err != nil {
			return Image{}, err
		}
	}
	return rd.assemble()
}

type reader struct {
	o        ReadOptions
	entries  map[string]*entry // by path in the save
	links    map[string]string // a path in the save that links to another
	byLength map[int64]map[string]Content
	sources  map[string]descriptor // the legacy manifest's foreign layers, by diff ID
}

// cached returns what the cache knows of a layer, if that is all this
// store needs: on the classic store, the gzip figure too.
func (rd *reader) cached(diffID string) (Content, bool) {
	c, ok := rd.o.Cache.Load(diffID)
	return c, ok && (rd.o.containerd() || c.Gzip > 0)
}

// pass reads the save once: every file, or only those in only.
func (rd *reader) pass(r io.Reader, only map[string]bool) error {
	src := &sourceReader{r: r}
	tr := tar.NewReader(src)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("reading the docker save of %s: %w", rd.o.Ref, err)
		}
		name := cleanPath(h.Name)
		if only != nil {
			if only[name] && isRegular(h.Typeflag) {
				e := &entry{size: h.Size}
				if err := rd.readLayer(e, name, sniffed(nil, true), tr, src); err != nil {
					return err
				}
				rd.entries[name] = e
			}
			continue
		}
		if _, dup := rd.entries[name]; dup || rd.links[name] != "" {
			return fmt.Errorf("reading the docker save of %s: it holds %s twice", rd.o.Ref, name)
		}
		switch {
		case isRegular(h.Typeflag):
			e, err := rd.read(name, h.Size, tr, src)
			if err != nil {
				return err
			}
			rd.entries[name] = e
		case h.Typeflag == tar.TypeSymlink:
			// The classic store saves a layer that repeats as a
			// symlink to its first copy: "../<id>/layer.tar".
			target := h.Linkname
			if !path.IsAbs(target) {
				target = path.Join(path.Dir(name), target)
			}
			rd.links[name] = cleanPath(target)
		case h.Typeflag == tar.TypeLink:
			rd.links[name] = cleanPath(h.Linkname)
		}
	}
	// The rest of the stream (padding), so that docker save ends well.
	if _, err := io.Copy(io.Discard, src); err != nil {
		return fmt.Errorf("reading the docker save of %s: %w", rd.o.Ref, err)
	}
	return nil
}

func isRegular(flag byte) bool { return flag == tar.TypeReg || flag == tar.TypeRegA }

// read reads one file of the save.
func (rd *reader) read(name string, size int64, r io.Reader, src *sourceReader) (*entry, error) {
	e := &entry{size: size}
	// A blob's name is its digest: a layer seen before need not be read.
	// An uncompressed blob is named by its diff ID; which diff ID a
	// compressed one holds, the cache says.
	if d, ok := strings.CutPrefix(name, "blobs/sha256/"); ok {
		d = "sha256:" + d
		if c, ok := rd.cached(d); ok {
			e.diffID, e.layer = d, &c
			return e, nil
		}
		if id, ok := rd.o.Cache.diffIDOf(d); ok {
			if c, ok := rd.cached(id); ok {
				e.diffID, e.layer = id, &c
				return e, nil
			}
		}
	}
	legacy := path.Base(name) == "layer.tar"
	// A legacy layer's name says nothing of its content, its length may:
	// one that matches a cached layer of the image is only hashed.
	if cands := rd.byLength[size]; legacy && len(cands) > 0 {
		h := sha256.New()
		if _, err := io.Copy(h, r); err != nil {
			return nil, fmt.Errorf("reading the docker save of %s, %s: %w", rd.o.Ref, name, err)
		}
		if c, ok := cands[digest(h)]; ok {
			e.diffID, e.layer = digest(h), &c
		} else {
			e.again = true
		}
		return e, nil
	}
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(512)
	if kind := sniffed(head, legacy); kind != "" {
		return e, rd.readLayer(e, name, kind, br, src)
	}
	if size <= maxMeta {
		var err error
		if e.meta, err = io.ReadAll(br); err != nil {
			return nil, fmt.Errorf("reading the docker save of %s, %s: %w", rd.o.Ref, name, err)
		}
		return e, nil
	}
	// Something else, and big: not ours to read, unless a manifest
	// says it is a layer.
	e.bad = fmt.Sprintf("neither a tar nor gzip- or zstd-compressed (it starts %x)", head[:min(len(head), 8)])
	return e, nil
}

// sniffed says how a file of the save is compressed, from its first
// bytes, or "" if it does not look like a layer. A file that is a layer
// by its name (legacy <id>/layer.tar) is a tar whatever it starts with.
// The magic numbers are gzip's (RFC 1952, 2.3.1) and zstd's, for a frame
// or a skippable frame (RFC 8878, 3.1.1 and 3.1.2).
func sniffed(head []byte, layer bool) string {
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return kindGzip
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}),
		len(head) >= 4 && head[0]&0xf0 == 0x50 && bytes.Equal(head[1:4], []byte{0x2a, 0x4d, 0x18}):
		return kindZstd
	case layer, len(head) == 512 && (isTar(head) || isZero(head)):
		// A tar may start with its end, two 512-byte zero blocks
		// (POSIX pax, "ustar Interchange Format"): older tools write an
		// empty layer as 1,024 zero bytes, or 10,240 (a whole record).
		return kindTar
	}
	return ""
}

func isTar(head []byte) bool {
	_, err := tar.NewReader(bytes.NewReader(head)).Next()
	return err == nil
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// readLayer reads a layer compressed as kind says ("" = as its first
// bytes say) in one stream: its diff ID, its files and, where the store
// needs it, its size gzipped, all at once. A layer that turns out not to
// be one is marked bad (the save may not use it); a failure of the save
// itself is an error. A blob's bytes are checked against its name.
func (rd *reader) readLayer(e *entry, name, kind string, r io.Reader, src *sourceReader) error {
	if kind == "" {
		br := bufio.NewReader(r)
		head, _ := br.Peek(512)
		if kind = sniffed(head, true); kind == "" {
			kind = kindTar
		}
		r = br
	}
	failed := src.err
	c, err := rd.layer(e, name, kind, r)
	if src.err != nil && src.err != failed {
		return fmt.Errorf("reading the docker save of %s, %s: %w", rd.o.Ref, name, src.err)
	}
	if err != nil {
		e.bad = err.Error()
		return nil
	}
	e.layer = &c
	if old, ok := rd.o.Cache.Load(e.diffID); ok && c.Gzip == 0 {
		c.Gzip = old.Gzip // keep a gzip figure measured on another store
	}
	if err := rd.o.Cache.Store(e.diffID, c); err != nil {
		return err
	}
	if d, ok := strings.CutPrefix(name, "blobs/sha256/"); ok && "sha256:"+d != e.diffID {
		return rd.o.Cache.storeDiffID("sha256:"+d, e.diffID)
	}
	return nil
}

// layer measures one layer stream; see readLayer.
func (rd *reader) layer(e *entry, name, kind string, r io.Reader) (Content, error) {
	raw := sha256.New() // the bytes as saved: a blob's name
	r = io.TeeReader(r, raw)
	var un io.Reader
	switch kind {
	case kindGzip:
		zr, err := gzip.NewReader(r)
		if err != nil {
			return Content{}, fmt.Errorf("gzip: %w", err)
		}
		un = zr
	case kindZstd:
		zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return Content{}, fmt.Errorf("zstd: %w", err)
		}
		defer zr.Close()
		un = zr
	default:
		un = r
	}
	diff := raw
	if kind != kindTar {
		diff = sha256.New()
	}
	var n, zn counter
	sinks := []io.Writer{&n}
	if kind != kindTar {
		sinks = append(sinks, diff)
	}
	var zw *gzip.Writer
	if !rd.o.containerd() {
		zw = gzip.NewWriter(&zn)
		sinks = append(sinks, zw)
	}
	tee := io.TeeReader(un, io.MultiWriter(sinks...))
	c, err := contents(tee)
	if err != nil {
		return Content{}, err
	}
	// What follows the tar's end belongs to the layer too.
	if _, err := io.Copy(io.Discard, tee); err != nil {
		return Content{}, fmt.Errorf("%s: %w", kind, err)
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return Content{}, err
		}
		c.Gzip = int64(zn)
	}
	c.Tar = int64(n)
	e.diffID = digest(diff)
	if d, ok := strings.CutPrefix(name, "blobs/sha256/"); ok && digest(raw) != "sha256:"+d {
		return Content{}, fmt.Errorf("its bytes' digest is %s, not its name", digest(raw))
	}
	return c, nil
}

// sourceReader notes the last error of the save's stream itself, to tell
// a save that broke off from a layer that is not one.
type sourceReader struct {
	r   io.Reader
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		s.err = err
	}
	return n, err
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
		Config       string
		Layers       []string
		LayerSources map[string]descriptor // foreign layers, by diff ID
	}
	descriptor struct {
		MediaType string   `json:"mediaType"`
		Digest    string   `json:"digest"`
		Size      int64    `json:"size"`
		URLs      []string `json:"urls"`
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

// The layer media types a save may name, and how each is compressed:
// the OCI image spec's (layer.md, "Media Types") and Docker's image
// manifest v2 schema 2. Encrypted layers are named so as to say so.
var mediaTypes = map[string]string{
	"application/vnd.oci.image.layer.v1.tar":                            kindTar,
	"application/vnd.oci.image.layer.v1.tar+gzip":                       kindGzip,
	"application/vnd.oci.image.layer.v1.tar+zstd":                       kindZstd,
	"application/vnd.oci.image.layer.nondistributable.v1.tar":           kindTar,
	"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip":      kindGzip,
	"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd":      kindZstd,
	"application/vnd.docker.image.rootfs.diff.tar":                      kindTar,
	"application/vnd.docker.image.rootfs.diff.tar.gzip":                 kindGzip,
	"application/vnd.docker.image.rootfs.foreign.diff.tar":              kindTar,
	"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip":         kindGzip,
	"application/vnd.oci.image.layer.nondistributable.v1.tar+encrypted": "",
}

// foreign says whether a media type is one of a layer that is not
// distributed with its image, and so not saved.
func foreign(mediaType string) bool {
	return strings.Contains(mediaType, "foreign") || strings.Contains(mediaType, "nondistributable")
}

// layerRef is where a layer is in the save, and what its manifest says of it.
type layerRef struct {
	path string
	desc descriptor // MediaType "" where the legacy manifest says nothing
}

// assemble puts the image together from the save's files: the legacy
// manifest.json where there is one (engines write it in both layouts),
// else the OCI index.
func (rd *reader) assemble() (Image, error) {
	cfgPath, refs, err := rd.manifest()
	if err != nil {
		return Image{}, err
	}
	cfgEntry := rd.entries[rd.resolve(cfgPath)]
	if cfgEntry == nil || cfgEntry.meta == nil {
		return Image{}, fmt.Errorf("reading the docker save of %s: it has no config %s", rd.o.Ref, cfgPath)
	}
	var cfg config
	if err := json.Unmarshal(cfgEntry.meta, &cfg); err != nil {
		return Image{}, fmt.Errorf("reading the docker save of %s, config %s: %w", rd.o.Ref, cfgPath, err)
	}
	if len(cfg.RootFS.DiffIDs) != len(refs) {
		return Image{}, fmt.Errorf("reading the docker save of %s: the config names %d layers, the manifest %d", rd.o.Ref, len(cfg.RootFS.DiffIDs), len(refs))
	}
	var img Image
	for i, ref := range refs {
		if d, ok := rd.sources[cfg.RootFS.DiffIDs[i]]; ok && ref.desc.MediaType == "" {
			ref.desc = d
		}
		e, err := rd.layerAt(i, ref)
		if err != nil {
			return Image{}, err
		}
		if e.diffID != cfg.RootFS.DiffIDs[i] {
			return Image{}, fmt.Errorf("reading the docker save of %s, layer %s: its content is %s, the config says %s", rd.o.Ref, ref.path, e.diffID, cfg.RootFS.DiffIDs[i])
		}
		l := Layer{DiffID: e.diffID, Content: *e.layer, Compressed: e.layer.Gzip}
		if rd.o.containerd() {
			l.Compressed = e.size
		}
		img.Layers = append(img.Layers, l)
	}
	for _, h := range cfg.History {
		img.History = append(img.History, Step{CreatedBy: h.CreatedBy, EmptyLayer: h.EmptyLayer})
	}
	return img, nil
}

// layerAt returns the read layer ref names, the i-th of the image, or an
// error that names it, its media type and the image.
func (rd *reader) layerAt(i int, ref layerRef) (*entry, error) {
	mt := ref.desc.MediaType
	fail := func(why string) error {
		shown := mt
		if shown == "" {
			shown = "none given"
		}
		return fmt.Errorf("reading the docker save of %s: layer %d (%s, media type %s) %s", rd.o.Ref, i+1, ref.path, shown, why)
	}
	// A legacy manifest gives no media type: its layers are tars.
	kind, known := mediaTypes[mt]
	known = mt == "" || known && kind != ""
	e := rd.entries[rd.resolve(ref.path)]
	switch {
	case e == nil && foreign(mt):
		return nil, fail("is not in the save: a non-distributable layer, which docker save leaves out, so it cannot be measured")
	case e == nil:
		return nil, fail("is not in the save")
	case e.layer == nil && e.meta != nil && known:
		// Small, and it did not look like a layer: the manifest says
		// it is one, and how it is compressed.
		if err := rd.readLayer(e, ref.path, kind, bytes.NewReader(e.meta), &sourceReader{}); err != nil {
			return nil, fail(err.Error())
		}
	}
	if e.layer != nil {
		return e, nil
	}
	why := e.bad
	if why == "" {
		why = "does not look like a layer"
	}
	if !known {
		return nil, fail("cannot be read, an unknown layer form: " + why)
	}
	return nil, fail("cannot be read: " + why)
}

// resolve follows the save's links from p to a file.
func (rd *reader) resolve(p string) string {
	for range maxLinks {
		if _, ok := rd.entries[p]; ok {
			return p
		}
		next, ok := rd.links[p]
		if !ok {
			return p
		}
		p = next
	}
	return p
}

// manifest returns the paths, in the save, of the image's config and layers.
func (rd *reader) manifest() (cfg string, layers []layerRef, err error) {
	if e := rd.entries["manifest.json"]; e != nil && e.meta != nil {
		var m legacyManifest
		if err := json.Unmarshal(e.meta, &m); err != nil {
			return "", nil, fmt.Errorf("reading the docker save of %s, manifest.json: %w", rd.o.Ref, err)
		}
		if len(m) != 1 {
			return "", nil, fmt.Errorf("reading the docker save of %s, manifest.json: %d images, want 1", rd.o.Ref, len(m))
		}
		// The OCI manifest, where the save has one too, gives the media types.
		types := map[string]descriptor{}
		if _, oci, err := rd.ociManifest(); err == nil {
			for _, l := range oci {
				types[l.path] = l.desc
			}
		}
		rd.sources = m[0].LayerSources
		for _, l := range m[0].Layers {
			p := cleanPath(l)
			layers = append(layers, layerRef{path: p, desc: types[p]})
		}
		return cleanPath(m[0].Config), layers, nil
	}
	return rd.ociManifest()
}

// ociManifest reads the OCI index down to the image's manifest.
func (rd *reader) ociManifest() (cfg string, layers []layerRef, err error) {
	e := rd.entries["index.json"]
	if e == nil || e.meta == nil {
		return "", nil, fmt.Errorf("reading the docker save of %s: it has neither manifest.json nor index.json", rd.o.Ref)
	}
	var idx ociIndex
	if err := json.Unmarshal(e.meta, &idx); err != nil {
		return "", nil, fmt.Errorf("reading the docker save of %s, index.json: %w", rd.o.Ref, err)
	}
	// Follow indexes down to the image's manifest, passing over
	// attestations (platform unknown/unknown).
	for depth := 0; len(idx.Layers) == 0 && idx.Config.Digest == ""; depth++ {
		d, ok := pick(idx.Manifests)
		if !ok || depth > 4 {
			return "", nil, fmt.Errorf("reading the docker save of %s, index.json: no image manifest", rd.o.Ref)
		}
		blob := rd.entries[rd.resolve(blobPath(d.Digest))]
		if blob == nil || blob.meta == nil {
			return "", nil, fmt.Errorf("reading the docker save of %s: it has no blob %s", rd.o.Ref, d.Digest)
		}
		idx = ociIndex{}
		if err := json.Unmarshal(blob.meta, &idx); err != nil {
			return "", nil, fmt.Errorf("reading the docker save of %s, %s: %w", rd.o.Ref, d.Digest, err)
		}
	}
	for _, l := range idx.Layers {
		layers = append(layers, layerRef{path: blobPath(l.Digest), desc: l})
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
	return cleanPath("blobs/sha256/" + strings.TrimPrefix(digest, "sha256:"))
}
