package image

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/dockertest"
)

// FuzzRead reads crafted saves. Read must never panic, and a save it
// accepts must read self-consistently: one layer per diff ID of the
// config, each layer's Size the sum of its files' (see size), no negative
// compressed size, and the same image cold as through a fresh cache,
// filled and then used.
//
// A save whose bytes are mutated at random rarely gets past its tar
// checksums and its config's diff IDs, so each input is also a layer: it
// is saved, with the diff IDs it has, in the legacy layout (next to an
// empty layer and as its own repeat) and in the OCI layout (uncompressed,
// gzip, zstd), and each of those saves is read too.
func FuzzRead(f *testing.F) {
	t := &testing.T{}
	users := dockertest.UsersLayer(t)
	a, b, c := repeated(t)
	odd := dockertest.LayerTar(t, dockertest.Entry{Name: "opt/a\xff", Body: "1"}, dockertest.Entry{Name: "opt/a\xfe", Body: "2"})
	for _, save := range [][]byte{
		dockertest.Save(t, fixture, users, dockertest.EmptyLayer(1024)),
		dockertest.Save(t, fixture, a, b, c, b),
		hardLinked(t, a, b, c),
		ociSaveOf(t, tarBlob(users), tarBlob(dockertest.EmptyLayer(10240))),
		ociSaveOf(t, gzipBlob(t, a), zstdBlob(t, b)),
	} {
		f.Add(save, []byte{}, false)
		f.Add(save, []byte{}, true)
	}
	for _, layer := range [][]byte{users, a, b, c, odd, dockertest.EmptyLayer(1024), layerTar(t), paxLayer(t)} {
		f.Add([]byte{}, layer, false)
		f.Add([]byte{}, layer, true)
	}
	f.Fuzz(func(t *testing.T, save, layer []byte, containerd bool) {
		store := docker.StoreClassic
		if containerd {
			store = docker.StoreContainerd
		}
		checkRead(t, save, store)
		if len(layer) == 0 {
			return
		}
		for _, s := range [][]byte{
			dockertest.Save(t, fixture, layer),
			dockertest.Save(t, fixture, layer, dockertest.EmptyLayer(1024), layer),
			ociSaveOf(t, tarBlob(layer)),
			ociSaveOf(t, gzipBlob(t, layer), zstdBlob(t, layer)),
		} {
			checkRead(t, s, store)
		}
	})
}

// checkRead reads save as FuzzRead says.
func checkRead(t *testing.T, save []byte, store string) {
	o := ReadOptions{Ref: fixture, Store: store}
	cold, err := Read(bytes.NewReader(save), o)
	if err != nil {
		return
	}
	if n := len(configDiffIDs(t, save)); n != len(cold.Layers) {
		t.Fatalf("%d layers read, the config names %d", len(cold.Layers), n)
	}
	for i, l := range cold.Layers {
		var sum int64
		for _, f := range l.Files {
			sum += size(f)
		}
		if l.Size != sum || l.Compressed < 0 {
			t.Fatalf("layer %d: size %d (its files add up to %d), compressed %d", i, l.Size, sum, l.Compressed)
		}
	}
	o.Cache = Cache{Dir: t.TempDir()}
	for run, diffIDs := range [][]string{nil, nil, diffIDsOf(cold)} {
		o.DiffIDs = diffIDs
		warm, err := Read(bytes.NewReader(save), o)
		if err != nil {
			t.Fatalf("run %d through the cache: %v (cold: no error)", run, err)
		}
		if !reflect.DeepEqual(warm, cold) {
			t.Fatalf("run %d through the cache:\n%+v\ncold:\n%+v", run, warm, cold)
		}
	}
}

// paxLayer has names and a link target too long for USTAR, in PAX headers.
func paxLayer(t *testing.T) []byte {
	long := strings.Repeat("p", 150)
	return dockertest.LayerTar(t,
		dockertest.Entry{Name: "opt/" + long, Body: "abc"},
		dockertest.Entry{Name: "opt/l", Type: tar.TypeSymlink, Link: long},
		dockertest.Entry{Name: "opt/h", Type: tar.TypeLink, Link: "opt/" + long},
	)
}

// configDiffIDs are the diff IDs of the config of a save Read accepted.
func configDiffIDs(t *testing.T, save []byte) []string {
	rd := reader{entries: map[string]*entry{}, links: map[string]string{}}
	if err := rd.pass(bytes.NewReader(save), nil); err != nil {
		t.Fatalf("reading the save again: %v", err)
	}
	p, _, err := rd.manifest()
	if err != nil {
		t.Fatalf("reading the save's manifest again: %v", err)
	}
	var cfg config
	if err := json.Unmarshal(rd.entries[rd.resolve(p)].meta, &cfg); err != nil {
		t.Fatalf("reading the save's config again: %v", err)
	}
	return cfg.RootFS.DiffIDs
}
