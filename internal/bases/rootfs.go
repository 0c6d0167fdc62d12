package bases

import (
	"archive/tar"
	"archive/zip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// rootfs writes a root filesystem as a tar stream, owned by root, with one
// fixed time stamp so that the same inputs make the same layer.
type rootfs struct {
	tw  *tar.Writer
	err error
}

var epoch = time.Unix(0, 0)

func newRootfs(w io.Writer) *rootfs { return &rootfs{tw: tar.NewWriter(w)} }

func (r *rootfs) header(h *tar.Header) {
	if r.err != nil {
		return
	}
	h.ModTime, h.Uid, h.Gid, h.Format = epoch, 0, 0, tar.FormatPAX
	r.err = r.tw.WriteHeader(h)
}

func (r *rootfs) dir(name string, mode int64) {
	r.header(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: mode})
}

func (r *rootfs) file(name string, mode int64, data string) {
	r.header(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data))})
	if r.err == nil {
		_, r.err = io.WriteString(r.tw, data)
	}
}

func (r *rootfs) symlink(name, target string) {
	r.header(&tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777})
}

// copyFile adds the host file src at name.
func (r *rootfs) copyFile(src, name string) {
	if r.err != nil {
		return
	}
	f, err := os.Open(src)
	if err != nil {
		r.err = err
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		r.err = err
		return
	}
	r.header(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: int64(fi.Mode().Perm()), Size: fi.Size()})
	if r.err == nil {
		_, r.err = io.Copy(r.tw, f)
	}
}

// copyTree adds the host directory src, recursively, at name.
func (r *rootfs) copyTree(src, name string) {
	if r.err != nil {
		return
	}
	r.err = filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		dst := filepath.ToSlash(filepath.Join(name, rel))
		switch t := d.Type(); {
		case t.IsDir():
			fi, err := d.Info()
			if err != nil {
				return err
			}
			r.dir(dst, int64(fi.Mode().Perm()))
		case t&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			r.symlink(dst, target)
		case t.IsRegular():
			r.copyFile(path, dst)
		}
		return r.err
	})
}

// copyZip adds the files of the zip at zipPath that are under prefix (a
// module zip's "path@version/"), at name: every file 0644, or 0755 where
// the zip has an execute bit or exec says it must (a zip may have lost
// them), and each directory, 0755, before its first file. A zip holds no
// links.
func (r *rootfs) copyZip(zipPath, prefix, name string, exec func(rel string) bool) {
	if r.err != nil {
		return
	}
	z, err := zip.OpenReader(zipPath)
	if err != nil {
		r.err = err
		return
	}
	defer z.Close()
	made := map[string]bool{name: true}
	r.dir(name, 0o755)
	for _, f := range z.File {
		rel, ok := strings.CutPrefix(f.Name, prefix)
		if clean := strings.TrimSuffix(rel, "/"); !ok || clean == "." || !fs.ValidPath(clean) {
			r.err = fmt.Errorf("%s: %q is not a file under %s", zipPath, f.Name, prefix)
			return
		}
		if strings.HasSuffix(rel, "/") { // a directory entry: made as its files need it
			continue
		}
		dst := path.Join(name, rel)
		for i := len(name) + 1; i < len(dst); i++ {
			if dst[i] == '/' && !made[dst[:i]] {
				r.dir(dst[:i], 0o755)
				made[dst[:i]] = true
			}
		}
		mode := int64(0o644)
		if f.Mode()&0o111 != 0 || exec(rel) {
			mode = 0o755
		}
		r.zipFile(f, dst, mode)
		if r.err != nil {
			return
		}
	}
}

func (r *rootfs) zipFile(f *zip.File, name string, mode int64) {
	rc, err := f.Open()
	if err != nil {
		r.err = err
		return
	}
	defer rc.Close()
	r.header(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(f.UncompressedSize64)})
	if r.err == nil {
		_, r.err = io.Copy(r.tw, rc)
	}
}

// Close finishes the stream and reports the first error met.
func (r *rootfs) Close() error {
	if r.err != nil {
		return r.err
	}
	return r.tw.Close()
}
