// Package emulation says whether an engine runs images of a platform that
// is not its own: a single-stage image for another platform is compiled,
// and every image for it is checked, by running it, which takes a CPU
// emulator on the engine's host (QEMU, registered with the kernel's
// binfmt_misc). The project never installs one; it asks, and an engine
// without one is an *UnavailableError that says how to get it.
//
// The question is asked by running a probe: an image of that platform
// whose entrypoint is a hand-made static ELF program of about 130 bytes
// that exits 0 at once (see exitProgram). The probe is loaded once per
// engine, as StandInPrefix/probe:<os>-<arch>, from a docker save archive
// made here byte for byte the same every time, so that it has the same
// image ID wherever and however often it is loaded.
package emulation
