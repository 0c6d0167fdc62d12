package emulation

import (
	"bytes"
	"context"
	"debug/elf"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/go-multistage/multistage/internal/proc"
)

// The probe program, read back as the kernel reads it: a static executable
// of the right machine, one loadable segment that maps the whole file,
// readable and executable, and the exit(0) code at the entry point.
func TestExitProgramIsAStaticExecutable(t *testing.T) {
	for arch, want := range exit0 {
		prog, err := exitProgram(arch)
		if err != nil {
			t.Fatalf("exitProgram(%s): %v", arch, err)
		}
		if len(prog) > 140 {
			t.Errorf("exitProgram(%s) is %d bytes, want about 130", arch, len(prog))
		}
		f, err := elf.NewFile(bytes.NewReader(prog))
		if err != nil {
			t.Fatalf("exitProgram(%s) does not parse as ELF: %v", arch, err)
		}
		if f.Class != elf.ELFCLASS64 || f.Data != elf.ELFDATA2LSB || f.Type != elf.ET_EXEC || f.Machine != want.machine {
			t.Errorf("exitProgram(%s): %v %v %v %v, want ELFCLASS64 ELFDATA2LSB ET_EXEC %v", arch, f.Class, f.Data, f.Type, f.Machine, want.machine)
		}
		if len(f.Progs) != 1 || len(f.Sections) != 0 {
			t.Fatalf("exitProgram(%s): %d program headers and %d sections, want one PT_LOAD and none", arch, len(f.Progs), len(f.Sections))
		}
		p := f.Progs[0]
		if p.Type != elf.PT_LOAD || p.Flags != elf.PF_R|elf.PF_X || p.Off != 0 || p.Vaddr != loadAddr ||
			p.Filesz != uint64(len(prog)) || p.Memsz != p.Filesz || p.Vaddr%p.Align != 0 {
			t.Errorf("exitProgram(%s): program header %+v, want the whole file, R+X, at %#x", arch, p.ProgHeader, loadAddr)
		}
		code := prog[f.Entry-loadAddr:]
		if !bytes.Equal(code, want.code) {
			t.Errorf("exitProgram(%s): code at the entry point %x, want %x", arch, code, want.code)
		}
	}
	if _, err := exitProgram("riscv64"); err == nil {
		t.Error("exitProgram(riscv64) = nil error, want one: there is no program for it")
	}
}

// The program of this machine's architecture runs here, natively, and
// exits 0: the header is one a kernel takes. (The other runs under
// emulation in the integration tests.)
func TestExitProgramRunsHere(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skipf("the probe is a Linux program; this is %s", runtime.GOOS)
	}
	prog, err := exitProgram(runtime.GOARCH)
	if err != nil {
		t.Skipf("no probe program for %s", runtime.GOARCH)
	}
	path := filepath.Join(t.TempDir(), "probe")
	if err := os.WriteFile(path, prog, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := proc.Exec(context.Background(), proc.Cmd{Args: []string{path}}); err != nil {
		t.Errorf("running the %s probe program: %v", runtime.GOARCH, err)
	}
}
