package pipeline

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"sync"

	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/facts"
)

// layerSizes caches the compressed size of every layer by its diff ID (the
// digest of its uncompressed tar), so that a layer images share, such as
// the Go toolchain every single-stage image is built on, is compressed once.
type layerSizes struct {
	store facts.Store
	mu    sync.Mutex
	locks map[string]*sync.Mutex // one per diff ID being measured
}

func (l *layerSizes) lock(diffID string) func() {
	l.mu.Lock()
	if l.locks == nil {
		l.locks = map[string]*sync.Mutex{}
	}
	m := l.locks[diffID]
	if m == nil {
		m = &sync.Mutex{}
		l.locks[diffID] = m
	}
	l.mu.Unlock()
	m.Lock()
	return m.Unlock
}

func (l *layerSizes) cached(diffID string) (int64, bool) {
	f, err := l.store.Load(diffID)
	if err != nil || f.CompressedBytes == nil {
		return 0, false
	}
	return *f.CompressedBytes, true
}

// compressedSize is what pushing the image's layers moves: the sum, over
// the layers in info.RootFS.Layers, of each layer's tar gzipped by Go's
// compress/gzip at its default level. The image config and manifest (about
// a kilobyte) are not counted. Layers not yet in the cache are read from
// `docker save`; every layer read is checked against its diff ID.
func (l *layerSizes) compressedSize(ctx context.Context, c *docker.Client, info docker.ImageInfo) (int64, error) {
	need := map[string]bool{}
	for _, d := range info.RootFS.Layers {
		if _, ok := l.cached(d); !ok {
			need[d] = true
		}
	}
	if len(need) > 0 {
		if err := l.measure(ctx, c, info.ID, need); err != nil {
			return 0, err
		}
	}
	var total int64
	for _, d := range info.RootFS.Layers {
		n, ok := l.cached(d)
		if !ok {
			return 0, fmt.Errorf("docker save %s gave no layer %s", info.ID, d)
		}
		total += n
	}
	return total, nil
}

// measure reads `docker save id` and caches the compressed size of each
// layer in it that need names.
func (l *layerSizes) measure(ctx context.Context, c *docker.Client, id string, need map[string]bool) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pr, pw := io.Pipe()
	saved := make(chan error, 1)
	go func() {
		err := c.Stream(ctx, nil, pw, "save", id)
		pw.CloseWithError(errors.Join(err, io.EOF))
		saved <- err
	}()
	err := l.readSave(pr, need)
	pr.CloseWithError(errors.New("read enough"))
	if err != nil {
		cancel()
		<-saved
		return err
	}
	return <-saved
}

// readSave reads a `docker save` stream. A layer is a file named
// <id>/layer.tar (the legacy layout, in no useful order) or
// blobs/sha256/<digest> (the OCI layout of newer engines); which layer it
// is shows only once it is read and hashed, so it is spooled to a
// temporary file and compressed from there only when it is needed.
func (l *layerSizes) readSave(r io.Reader, need map[string]bool) error {
	tmp, err := os.CreateTemp("", "multistage-layer-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading docker save: %w", err)
		}
		if h.Typeflag != tar.TypeReg || !(path.Base(h.Name) == "layer.tar" || strings.HasPrefix(h.Name, "blobs/sha256/")) {
			continue
		}
		if err := l.readLayer(tr, tmp, need); err != nil {
			return fmt.Errorf("reading docker save, %s: %w", h.Name, err)
		}
	}
}

func (l *layerSizes) readLayer(r io.Reader, tmp *os.File, need map[string]bool) error {
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if err := tmp.Truncate(0); err != nil {
		return err
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(tmp, h), r); err != nil {
		return err
	}
	diffID := "sha256:" + hex.EncodeToString(h.Sum(nil))
	if !need[diffID] {
		return nil // not a layer, or one already cached
	}
	unlock := l.lock(diffID)
	defer unlock()
	if _, ok := l.cached(diffID); ok {
		return nil // another image measured it meanwhile
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return err
	}
	var n countingWriter
	zw := gzip.NewWriter(&n)
	if _, err := io.Copy(zw, tmp); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	size := int64(n)
	return l.store.Update(diffID, facts.Facts{CompressedBytes: &size})
}
