package emulation

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/go-multistage/multistage/internal/variant"
)

func TestProbeFor(t *testing.T) {
	p, err := probeFor("linux/arm64")
	if err != nil || p.Tag != "multistage-standin/probe:linux-arm64" || len(p.Program) == 0 {
		t.Errorf("probeFor(linux/arm64) = %+v, %v; want the arm64 program, tagged multistage-standin/probe:linux-arm64", p, err)
	}
	for _, bad := range []string{"linux/riscv64", "windows/amd64", "arm64", ""} {
		if _, err := probeFor(bad); err == nil {
			t.Errorf("probeFor(%q) = nil error, want one", bad)
		}
	}
}

// The archive is what docker load takes, the same bytes every time, and
// names the image as the platform's, labelled as the project's.
func TestProbeArchive(t *testing.T) {
	p, err := probeFor("linux/arm64")
	if err != nil {
		t.Fatal(err)
	}
	a, err := p.archive()
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := p.archive(); !bytes.Equal(a, again) {
		t.Error("two archives of the probe differ: its image ID would too")
	}
	files := untar(t, a)
	var manifest []struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	if err := json.Unmarshal(files["manifest.json"], &manifest); err != nil || len(manifest) != 1 || len(manifest[0].Layers) != 1 {
		t.Fatalf("manifest.json = %s, %v; want one image of one layer", files["manifest.json"], err)
	}
	m := manifest[0]
	if len(m.RepoTags) != 1 || m.RepoTags[0] != p.Tag {
		t.Errorf("RepoTags = %v, want [%s]", m.RepoTags, p.Tag)
	}
	var config struct {
		Architecture, OS string
		Config           struct {
			Entrypoint []string
			Labels     map[string]string
		}
		RootFS struct {
			DiffIDs []string `json:"diff_ids"`
		}
	}
	if err := json.Unmarshal(files[m.Config], &config); err != nil {
		t.Fatalf("config %s: %v", m.Config, err)
	}
	if config.OS != "linux" || config.Architecture != "arm64" || strings.Join(config.Config.Entrypoint, " ") != "/probe" || config.Config.Labels[variant.ProjectLabel] == "" {
		t.Errorf("config = %+v, want linux/arm64, entrypoint /probe, the project's label", config)
	}
	layer := files[m.Layers[0]]
	if len(config.RootFS.DiffIDs) != 1 || config.RootFS.DiffIDs[0] != digest(layer) {
		t.Errorf("diff_ids = %v, want [%s]", config.RootFS.DiffIDs, digest(layer))
	}
	tr := tar.NewReader(bytes.NewReader(layer))
	h, err := tr.Next()
	if err != nil || h.Name != "probe" || h.Mode != 0o755 || h.Uid != 0 {
		t.Fatalf("the layer's first entry = %+v, %v; want probe, 0755, root's", h, err)
	}
	if body, _ := io.ReadAll(tr); !bytes.Equal(body, p.Program) {
		t.Error("the layer's probe is not the program")
	}
}

func untar(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name], _ = io.ReadAll(tr)
	}
}
