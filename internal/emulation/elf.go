package emulation

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
)

// loadAddr is where the program is mapped: the usual base of a static
// non-PIE executable, page-aligned, above any mmap_min_addr.
const loadAddr = 0x400000

// exit0 is, per architecture, the machine code of exit(0) on Linux and the
// ELF machine it is for.
var exit0 = map[string]struct {
	machine elf.Machine
	code    []byte
}{
	"amd64": {elf.EM_X86_64, []byte{
		0xb8, 0x3c, 0x00, 0x00, 0x00, // mov eax, 60 (exit)
		0x31, 0xff, // xor edi, edi (status 0)
		0x0f, 0x05, // syscall
	}},
	"arm64": {elf.EM_AARCH64, le32(
		0xd2800000, // mov x0, #0 (status 0)
		0xd2800ba8, // mov x8, #93 (exit)
		0xd4000001, // svc #0
	)},
}

// le32 is words as AArch64 instructions are stored: 32 bits each, little-endian.
func le32(words ...uint32) []byte {
	var b []byte
	for _, w := range words {
		b = binary.LittleEndian.AppendUint32(b, w)
	}
	return b
}

// exitProgram is a complete static Linux executable for arch (GOARCH) that
// calls exit(0) and does nothing else: a 64-bit little-endian ELF header,
// one PT_LOAD program header that maps the whole file, readable and
// executable, at loadAddr, and the code right after them, where the entry
// point is. No sections, no interpreter, no libc: the kernel, or the
// emulator binfmt_misc hands it to, runs it as it is.
func exitProgram(arch string) ([]byte, error) {
	p, ok := exit0[arch]
	if !ok {
		return nil, fmt.Errorf("no probe program for %s (there is one for amd64 and arm64)", arch)
	}
	const headers = 64 + 56 // sizeof Header64 + sizeof Prog64
	size := uint64(headers + len(p.code))
	var ident [elf.EI_NIDENT]byte
	copy(ident[:], elf.ELFMAG)
	ident[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	ident[elf.EI_OSABI] = byte(elf.ELFOSABI_NONE)
	h := elf.Header64{
		Ident:     ident,
		Type:      uint16(elf.ET_EXEC),
		Machine:   uint16(p.machine),
		Version:   uint32(elf.EV_CURRENT),
		Entry:     loadAddr + headers,
		Phoff:     64,
		Ehsize:    64,
		Phentsize: 56,
		Phnum:     1,
	}
	ph := elf.Prog64{
		Type:   uint32(elf.PT_LOAD),
		Flags:  uint32(elf.PF_R | elf.PF_X),
		Off:    0,
		Vaddr:  loadAddr,
		Paddr:  loadAddr,
		Filesz: size,
		Memsz:  size,
		Align:  0x1000,
	}
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, h) // writes to a buffer do not fail
	binary.Write(&b, binary.LittleEndian, ph)
	b.Write(p.code)
	if uint64(b.Len()) != size {
		return nil, fmt.Errorf("probe program for %s: %d bytes, want %d", arch, b.Len(), size)
	}
	return b.Bytes(), nil
}
