package emulation

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-multistage/multistage/internal/bases"
	"github.com/go-multistage/multistage/internal/docker"
	"github.com/go-multistage/multistage/internal/variant"
)

// probe is the image that asks an engine whether it runs platform.
type probe struct {
	Platform string // "linux/arm64"
	Tag      string // its name on the engine
	Program  []byte // its entrypoint, /probe
}

// probeFor is the probe of platform: exitProgram of its architecture,
// named ProbeTag(platform).
func probeFor(platform string) (probe, error) {
	goos, arch, ok := strings.Cut(platform, "/")
	if !ok || goos != "linux" {
		return probe{}, fmt.Errorf("platform %q: there is a probe for linux/<arch> only", platform)
	}
	prog, err := exitProgram(arch)
	if err != nil {
		return probe{}, fmt.Errorf("platform %s: %w", platform, err)
	}
	return probe{Platform: platform, Tag: ProbeTag(platform), Program: prog}, nil
}

// ProbeTag is the name of the probe of platform on an engine:
// multistage-standin/probe:linux-arm64. It is under bases.StandInPrefix
// and has the project's label, so that mage clean removes it.
func ProbeTag(platform string) string {
	return bases.StandInPrefix + "/probe:" + strings.ReplaceAll(platform, "/", "-")
}

// load makes sure the engine has the probe, loading it if need be. Two
// processes that load it at once load the same bytes: the same image.
func (p probe) load(ctx context.Context, c *docker.Client) error {
	_, err := c.Inspect(ctx, p.Tag)
	if !errors.Is(err, docker.ErrNotFound) {
		return err
	}
	archive, err := p.archive()
	if err != nil {
		return err
	}
	if err := c.Load(ctx, bytes.NewReader(archive)); err != nil {
		return fmt.Errorf("loading the probe %s: %w", p.Tag, err)
	}
	return nil
}

// archive is the probe as a docker save archive, the format both image
// stores load: manifest.json, the image config and one layer whose only
// file is /probe. Nothing in it depends on when or where it is made (no
// time stamps but the epoch, JSON with sorted keys), so its image ID is
// the same on every load.
func (p probe) archive() ([]byte, error) {
	goos, arch, _ := strings.Cut(p.Platform, "/")
	layer, err := tarOf(tarFile{"probe", 0o755, p.Program})
	if err != nil {
		return nil, err
	}
	diffID := digest(layer)
	config, err := json.Marshal(map[string]any{
		"architecture": arch,
		"os":           goos,
		"config": map[string]any{
			"Entrypoint": []string{"/probe"},
			"Labels":     map[string]string{variant.ProjectLabel: "probe"},
		},
		"rootfs":  map[string]any{"type": "layers", "diff_ids": []string{diffID}},
		"history": []map[string]string{{"created_by": "the project's emulation probe: exit(0)"}},
	})
	if err != nil {
		return nil, err
	}
	configName := strings.TrimPrefix(digest(config), "sha256:") + ".json"
	layerName := strings.TrimPrefix(diffID, "sha256:") + "/layer.tar"
	manifest, err := json.Marshal([]map[string]any{{"Config": configName, "RepoTags": []string{p.Tag}, "Layers": []string{layerName}}})
	if err != nil {
		return nil, err
	}
	return tarOf(
		tarFile{layerName, 0o644, layer},
		tarFile{configName, 0o644, config},
		tarFile{"manifest.json", 0o644, manifest},
	)
}

type tarFile struct {
	name string
	mode int64
	data []byte
}

// tarOf is a tar of files, owned by root, dated the epoch.
func tarOf(files ...tarFile) ([]byte, error) {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, f := range files {
		h := &tar.Header{Typeflag: tar.TypeReg, Name: f.name, Mode: f.mode, Size: int64(len(f.data)), ModTime: time.Unix(0, 0), Format: tar.FormatUSTAR}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
