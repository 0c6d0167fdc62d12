package image

import (
	"path"
	"strings"
)

// Exposure is what an image's final filesystem offers whoever gets into a
// container of it, beyond what it weighs.
type Exposure struct {
	// Files counts the paths that are regular files, as `find / -type f`
	// would: a hard link is a path of its own, so it counts.
	Files int `json:"files"`
	// HasShell says whether /bin/sh resolves, through symlinks, to a
	// regular file.
	HasShell bool `json:"has_shell"`
	// SetuidFiles counts the regular files with the setuid or setgid bit.
	SetuidFiles int `json:"setuid_files"`
}

// Whiteouts as docker save writes them (the AUFS convention every store
// exports): ".wh.<name>" removes name from the layers below; a
// ".wh..wh..opq" file makes its directory opaque (nothing below shows
// through). Other ".wh..wh." names are the store's bookkeeping.
const (
	whiteoutPrefix = ".wh."
	whiteoutMeta   = ".wh..wh."
	opaque         = ".wh..wh..opq"
)

// maxSymlinks bounds the symlinks one lookup follows, as Linux does (MAXSYMLINKS).
const maxSymlinks = 40

// Filesystem is the final filesystem of an image, its layers applied in
// order: every entry but directories, by clean relative path. Directories
// are implied by what lies under them.
type Filesystem map[string]File

// Flatten applies the layers, oldest first, as an engine unpacks them:
// a layer's whiteouts remove from the layers below it, then its entries
// are added, replacing what was at their path (a file replacing a
// directory drops what was under it; a file under a path that was a file
// or symlink turns that path into a directory).
func Flatten(layers []Layer) Filesystem {
	fs := Filesystem{}
	dirs := map[string]bool{} // paths that have held something under them
	removeUnder := func(dir string) {
		if !dirs[dir] {
			return
		}
		prefix := dir + "/"
		if dir == "" {
			prefix = ""
		}
		for p := range fs {
			if strings.HasPrefix(p, prefix) {
				delete(fs, p)
			}
		}
	}
	for _, l := range layers {
		for _, f := range l.Files {
			dir, name := path.Split(f.Path)
			dir = strings.TrimSuffix(dir, "/")
			switch {
			case name == opaque:
				removeUnder(dir)
			case strings.HasPrefix(name, whiteoutMeta):
			case strings.HasPrefix(name, whiteoutPrefix):
				gone := path.Join(dir, strings.TrimPrefix(name, whiteoutPrefix))
				delete(fs, gone)
				removeUnder(gone)
			}
		}
		for _, f := range l.Files {
			if f.Path == "" || strings.HasPrefix(f.Path, whiteoutPrefix) || strings.Contains(f.Path, "/"+whiteoutPrefix) {
				continue // a whiteout, or the store's bookkeeping
			}
			removeUnder(f.Path)
			for d := path.Dir(f.Path); d != "."; d = path.Dir(d) {
				delete(fs, d) // a directory now
				dirs[d] = true
			}
			dirs[""] = true
			fs[f.Path] = f
		}
	}
	return fs
}

// Exposure counts what fs exposes.
func (fs Filesystem) Exposure() Exposure {
	var e Exposure
	for _, f := range fs {
		mode, ok := fs.regular(f)
		if !ok {
			continue
		}
		e.Files++
		if mode&0o6000 != 0 {
			e.SetuidFiles++
		}
	}
	if f, ok := fs.Resolve("/bin/sh"); ok {
		_, e.HasShell = fs.regular(f)
	}
	return e
}

// regular says whether f is a regular file, and its mode: a hard link is
// one, with the mode of the file it links to when that is known.
func (fs Filesystem) regular(f File) (int64, bool) {
	switch f.Type {
	case '0', 0, '7':
		return f.Mode, true
	case '1':
		if t, ok := fs[f.Link]; ok && t.Type != '1' {
			return t.Mode, true
		}
		return f.Mode, true
	}
	return 0, false
}

// Resolve looks p up as the kernel would inside the image: every symlink
// on the way, absolute or relative, is followed (at most maxSymlinks of
// them); ".." stops at the root. It returns the entry p ends at, and false
// when p names nothing, a directory, or a loop.
func (fs Filesystem) Resolve(p string) (File, bool) {
	var done []string // resolved components
	todo := split(p)
	followed := 0
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case ".":
			continue
		case "..":
			if len(done) > 0 {
				done = done[:len(done)-1]
			}
			continue
		}
		cur := strings.Join(append(done, c), "/")
		f, ok := fs[cur]
		if !ok {
			if len(todo) == 0 {
				return File{}, false // nothing there, or a directory
			}
			done = append(done, c) // a directory, or nothing (found out later)
			continue
		}
		if f.Type != '2' {
			if len(todo) > 0 {
				return File{}, false // a file is not a directory
			}
			return f, true
		}
		if followed++; followed > maxSymlinks {
			return File{}, false
		}
		if strings.HasPrefix(f.Link, "/") {
			done = nil
		}
		todo = append(split(f.Link), todo...)
	}
	return File{}, false // the root, a directory
}

func split(p string) []string {
	var parts []string
	for _, c := range strings.Split(p, "/") {
		if c != "" {
			parts = append(parts, c)
		}
	}
	return parts
}

// Exposure is what the image's final filesystem exposes: computed from
// its layers' files when they are there, else the figure a Summary kept
// (nil when neither is known).
func (img Image) Exposure() *Exposure {
	if img.Exposed != nil {
		return img.Exposed
	}
	for _, l := range img.Layers {
		if l.Files == nil {
			return nil // a summary that did not keep the figure
		}
	}
	e := Flatten(img.Layers).Exposure()
	return &e
}
