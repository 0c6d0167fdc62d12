package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, path, s string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), mode); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestEditTouchesAndRestoresByteForByte(t *testing.T) {
	for _, orig := range []string{"package main\n", "package main // no newline at the end", "", "crlf\r\n"} {
		dir := t.TempDir()
		path, backup := filepath.Join(dir, "main.go"), filepath.Join(dir, "cache", "main.go.orig")
		writeFile(t, path, orig, 0o640)
		e, err := StartEdit(path, backup)
		if err != nil {
			t.Fatal(err)
		}
		var seen []string
		for _, tag := range []string{"a1", "a2"} {
			if err := e.Touch(tag); err != nil {
				t.Fatal(err)
			}
			seen = append(seen, readFile(t, path))
		}
		if seen[0] == orig || seen[0] == seen[1] || !strings.HasPrefix(seen[1], strings.TrimSuffix(orig, "\n")) {
			t.Errorf("Touch(1), Touch(2) of %q = %q, want two different edits of it", orig, seen)
		}
		for range 2 { // twice: Restore is idempotent
			if err := e.Restore(); err != nil {
				t.Fatal(err)
			}
		}
		info, _ := os.Stat(path)
		if got := readFile(t, path); got != orig || info.Mode().Perm() != 0o640 {
			t.Errorf("Restore() left %q (mode %v), want %q (mode 0640)", got, info.Mode().Perm(), orig)
		}
		if _, err := os.Stat(backup); !os.IsNotExist(err) {
			t.Errorf("Restore() left the backup %s", backup)
		}
	}
}

func TestEditLeavesSomebodyElsesChangeAlone(t *testing.T) {
	dir := t.TempDir()
	path, backup := filepath.Join(dir, "main.go"), filepath.Join(dir, "main.go.orig")
	writeFile(t, path, "package main\n", 0o644)
	e, err := StartEdit(path, backup)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Touch("a1"); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, "package main\n\nfunc main() {}\n", 0o644) // another engineer saves
	err = e.Restore()
	if err == nil || !strings.Contains(err.Error(), "changed by something other than the bench") || !strings.Contains(err.Error(), backup) {
		t.Errorf("Restore() after another change = %v, want an error naming the backup", err)
	}
	if got := readFile(t, path); got != "package main\n\nfunc main() {}\n" {
		t.Errorf("Restore() overwrote another change: %q", got)
	}
	if _, err := os.Stat(backup); err != nil {
		t.Errorf("Restore() removed the backup after refusing: %v", err)
	}
}

func TestRecover(t *testing.T) {
	tests := []struct {
		description  string
		orig, now    string
		wantRestored bool
		wantErr      string
		wantNow      string
	}{
		{"an edit left by a killed bench", "package main\n", "package main\n" + editMarker + "3\n", true, "", "package main\n"},
		{"a file without a final newline", "x", "x\n" + editMarker + "1\n", true, "", "x"},
		{"already restored", "package main\n", "package main\n", false, "", "package main\n"},
		{"changed by somebody else", "package main\n", "package other\n", false, "differs from the copy", "package other\n"},
		{"a marker and more", "package main\n", "package main\n" + editMarker + "1\nfunc f() {}\n", false, "differs from the copy", "package main\n" + editMarker + "1\nfunc f() {}\n"},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		path, backup := filepath.Join(dir, "main.go"), filepath.Join(dir, "main.go.orig")
		writeFile(t, path, tt.now, 0o644)
		writeFile(t, backup, tt.orig, 0o600)
		restored, err := Recover(path, backup)
		if restored != tt.wantRestored || (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%s: Recover() = %v, %v; want %v, error containing %q", tt.description, restored, err, tt.wantRestored, tt.wantErr)
		}
		if got := readFile(t, path); got != tt.wantNow {
			t.Errorf("%s: Recover() left %q, want %q", tt.description, got, tt.wantNow)
		}
	}
	if restored, err := Recover(filepath.Join(t.TempDir(), "x.go"), filepath.Join(t.TempDir(), "none")); restored || err != nil {
		t.Errorf("Recover(no backup) = %v, %v; want false, nil", restored, err)
	}
}
