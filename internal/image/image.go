// Package image reads an image as `docker save` writes it, whatever the
// engine and its image store: the legacy layout of the classic store
// (manifest.json, each layer an uncompressed <id>/layer.tar or, since
// Docker 25, blobs/sha256/<diff ID>; a layer that repeats is a link to its
// first copy) and the OCI layout of the containerd image store
// (index.json, layers kept as blobs compressed with gzip or zstd, or not
// at all). It is the one place that knows those formats: the report, the
// tests and the bench read an image's layers, their sizes and their files
// through it.
//
// The figures mean the same on every engine:
//   - a layer's Size is its unpacked content: the bytes of its regular
//     files plus the length of its symlinks' targets, a hard link once.
//     That is how the classic store counts a layer (and so what docker
//     images says there), and it is what an image is on any store;
//   - a layer's Compressed size is what pushing it uploads: on the
//     containerd store the stored blob as it is, whatever its compression
//     (none included); on the classic store the layer tar gzipped by Go's
//     compress/gzip at its default level, as that store compresses on push.
//
// Which of the two a push uploads depends on the store, which a save does
// not tell: the caller says it (ReadOptions.Store).
package image

import (
	"encoding/json"
	"path"
	"unicode/utf8"
)

// File is one entry of a layer tar that is not a directory. Path and Link
// are the tar's bytes as they are: Linux names need not be UTF-8.
type File struct {
	Path string // clean, relative: "usr/local/bin/app"
	Type byte   // tar type flag: '0' file, '1' hard link, '2' symlink, ...
	Mode int64  // permission bits with setuid, setgid and sticky
	Size int64  // regular files only
	Link string // the target of a link
}

// fileJSON is File as the layer cache keeps it. A name that is not UTF-8
// goes in the ...b field as bytes (base64): a JSON string would turn each
// invalid byte into U+FFFD, and two names into one.
type fileJSON struct {
	Path      string `json:"p,omitempty"`
	PathBytes []byte `json:"pb,omitempty"`
	Type      byte   `json:"t"`
	Mode      int64  `json:"m"`
	Size      int64  `json:"s,omitempty"`
	Link      string `json:"l,omitempty"`
	LinkBytes []byte `json:"lb,omitempty"`
}

// MarshalJSON keeps Path and Link byte for byte.
func (f File) MarshalJSON() ([]byte, error) {
	j := fileJSON{Type: f.Type, Mode: f.Mode, Size: f.Size}
	j.Path, j.PathBytes = splitUTF8(f.Path)
	j.Link, j.LinkBytes = splitUTF8(f.Link)
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (f *File) UnmarshalJSON(data []byte) error {
	var j fileJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	*f = File{Path: j.Path, Type: j.Type, Mode: j.Mode, Size: j.Size, Link: j.Link}
	if j.PathBytes != nil {
		f.Path = string(j.PathBytes)
	}
	if j.LinkBytes != nil {
		f.Link = string(j.LinkBytes)
	}
	return nil
}

// splitUTF8 puts s in the string field where JSON keeps it exactly, else
// in the bytes field.
func splitUTF8(s string) (string, []byte) {
	if utf8.ValidString(s) {
		return s, nil
	}
	return "", []byte(s)
}

// Content is what a layer holds, measured from its uncompressed tar.
type Content struct {
	Size  int64  `json:"size"`  // unpacked bytes (see the package doc)
	Gzip  int64  `json:"gzip"`  // the tar gzipped at the default level; 0 = not measured
	Tar   int64  `json:"tar"`   // the uncompressed tar's length in bytes; 0 = not measured
	Files []File `json:"files"` // every entry but directories, in tar order
}

// Layer is one layer of an image, oldest first.
type Layer struct {
	DiffID     string `json:"diff_id"`    // digest of the uncompressed tar
	Compressed int64  `json:"compressed"` // bytes a push of the layer uploads
	Content
}

// Step is one entry of the image's history: an instruction, and whether
// it made a layer.
type Step struct {
	CreatedBy  string `json:"created_by"`
	EmptyLayer bool   `json:"empty_layer"`
}

// Image is a saved image: its layers, oldest first, and its history.
type Image struct {
	Layers  []Layer `json:"layers"`
	History []Step  `json:"history"`
	// Exposed is what the final filesystem exposes, as a Summary keeps
	// it; nil where the layers' files are at hand (see Exposure) or where
	// a summary was made before the figure existed.
	Exposed *Exposure `json:"exposure,omitempty"`
}

// Summary is img without the files of its layers, but with what they
// expose: what is worth keeping beside an image's other figures.
func (img Image) Summary() Image {
	s := Image{History: img.History, Exposed: img.Exposure()}
	for _, l := range img.Layers {
		l.Files = nil
		s.Layers = append(s.Layers, l)
	}
	return s
}

// Size is the image's unpacked size: the sum of its layers' sizes.
func (img Image) Size() int64 {
	var n int64
	for _, l := range img.Layers {
		n += l.Size
	}
	return n
}

// Compressed is what pushing the image's layers uploads (the config and
// manifest, about a kilobyte, are not counted).
func (img Image) Compressed() int64 {
	var n int64
	for _, l := range img.Layers {
		n += l.Compressed
	}
	return n
}

// size is what a tar entry adds to a layer's unpacked size.
func size(f File) int64 {
	switch f.Type {
	case '0', 0, '7': // regular (and the old and contiguous spellings)
		return f.Size
	case '2':
		return int64(len(f.Link))
	}
	return 0
}

func cleanPath(name string) string {
	p := path.Clean("/" + name)
	if p == "/" {
		return ""
	}
	return p[1:]
}
