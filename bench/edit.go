package bench

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// editMarker starts every line the bench appends to a source file, so a
// file it left edited can be told from one somebody else changed.
const editMarker = "// mage bench: touched "

// Edit is a source file the bench changes and must put back byte for byte.
// A copy of the original sits at Backup until Restore succeeds, so that
// even a bench that was killed is undone by the next one (see Recover).
type Edit struct {
	Path   string
	Backup string

	mu    sync.Mutex
	orig  []byte
	mode  os.FileMode
	wrote []byte // what the file holds if nobody else touched it
}

// StartEdit reads path and saves its bytes to backup. It does not change
// path yet: Touch does.
func StartEdit(path, backup string) (*Edit, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	orig, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(backup); err == nil {
		return nil, fmt.Errorf("%s exists: an earlier bench may have left %s edited; run Recover first", backup, path)
	}
	if err := os.MkdirAll(filepath.Dir(backup), 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(backup, orig, 0o600); err != nil {
		return nil, fmt.Errorf("saving a copy of %s: %w", path, err)
	}
	return &Edit{Path: path, Backup: backup, orig: orig, mode: info.Mode().Perm(), wrote: orig}, nil
}

// Touch makes path the original plus one comment line naming tag, so
// every touch with a new tag is a change no build has seen: a tag used
// before could find its images already built.
func (e *Edit) Touch(tag string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.unchangedByOthers(); err != nil {
		return err
	}
	next := touched(e.orig, tag)
	if err := os.WriteFile(e.Path, next, e.mode); err != nil {
		return fmt.Errorf("editing %s: %w", e.Path, err)
	}
	e.wrote = next
	return nil
}

// Restore puts the original bytes back and removes the backup. It is safe
// to call more than once, and from a context's AfterFunc. When somebody
// else changed the file meanwhile it leaves both alone and says so.
func (e *Edit) Restore() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.unchangedByOthers(); err != nil {
		return err
	}
	if !bytes.Equal(e.wrote, e.orig) {
		if err := os.WriteFile(e.Path, e.orig, e.mode); err != nil {
			return fmt.Errorf("restoring %s (its original is in %s): %w", e.Path, e.Backup, err)
		}
		e.wrote = e.orig
	}
	if err := os.Remove(e.Backup); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

func (e *Edit) unchangedByOthers() error {
	now, err := os.ReadFile(e.Path)
	if err != nil {
		return err
	}
	if !bytes.Equal(now, e.wrote) {
		return fmt.Errorf("%s was changed by something other than the bench while it ran: left as it is; the bench's copy of the original is %s", e.Path, e.Backup)
	}
	return nil
}

func touched(orig []byte, tag string) []byte {
	b := bytes.Clone(orig)
	if len(b) > 0 && b[len(b)-1] != '\n' {
		b = append(b, '\n')
	}
	return fmt.Appendf(b, "%s%s\n", editMarker, tag)
}

// Recover undoes an edit an earlier bench left behind: when backup exists
// and path is the backup plus the bench's marker lines, path gets the
// backup's bytes back. It reports whether it restored anything, and errs
// when path differs from the backup in any other way.
func Recover(path, backup string) (bool, error) {
	orig, err := os.ReadFile(backup)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	now, err := os.ReadFile(path)
	if err != nil {
		return false, err
	}
	restored := false
	switch {
	case bytes.Equal(now, orig):
	case onlyMarkersAdded(orig, now):
		info, err := os.Stat(path)
		if err != nil {
			return false, err
		}
		if err := os.WriteFile(path, orig, info.Mode().Perm()); err != nil {
			return false, err
		}
		restored = true
	default:
		return false, fmt.Errorf("%s differs from the copy an earlier bench saved in %s by more than the bench's own line: compare them and remove %s", path, backup, backup)
	}
	return restored, os.Remove(backup)
}

func onlyMarkersAdded(orig, now []byte) bool {
	prefix := orig
	if len(orig) > 0 && orig[len(orig)-1] != '\n' {
		prefix = append(bytes.Clone(orig), '\n') // touched added it
	}
	rest, ok := bytes.CutPrefix(now, prefix)
	if !ok || len(rest) == 0 {
		return false
	}
	for _, l := range strings.Split(strings.TrimSuffix(string(rest), "\n"), "\n") {
		if !strings.HasPrefix(l, editMarker) {
			return false
		}
	}
	return true
}
