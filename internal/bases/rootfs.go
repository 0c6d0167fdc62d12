package bases

import (
	"archive/tar"
	"io"
	"io/fs"
	"os"
	"path/filepath"
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

// Close finishes the stream and reports the first error met.
func (r *rootfs) Close() error {
	if r.err != nil {
		return r.err
	}
	return r.tw.Close()
}
