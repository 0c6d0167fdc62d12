// Package budget reads the size budgets checked in at the repository root
// (budgets.txt) and checks a report against them: the gate that keeps what
// multi-stage builds bought from growing back unnoticed.
//
// The file is plain lines, for a reviewer to read in a diff:
//
//	# comment                  (a # starts a comment anywhere on a line)
//	hello/scratch  size 1.67 MB  compressed 756 kB
//	hello/alpine on multistage-standin/busybox:1.35.0  size 3.98 MB
//	hello/scratch on linux/arm64  size 1.66 MB
//	hello/alpine on linux/arm64 on multistage-standin/rootfs:minimal-linux-arm64  size 1.89 MB
//
// A line names a variant as the report and the progress lines do
// (app/style), then, optionally, "on <base>", "on <platform>" or both, in
// either order. With a base, the budget holds only for an image built on
// that base, as the size of an alpine image is mostly its base's; with a
// platform, only for an image of that platform (its report.Image.Platform);
// a line without one holds on every base, or every platform. A platform is
// os/arch or os/arch/variant with os linux, lowercase ("linux/arm64",
// "linux/arm/v7"; "linux/arm64/v8" is "linux/arm64"); anything else after
// "on" is a base reference, so a base named linux/<name> is written with
// its tag ("linux/foo:1"). Where several lines hold for an image, the one
// that names the most wins, its base counting for more than its platform:
// base and platform, then base, then platform, then neither. Then one or
// both figures, each with its maximum:
// "size" (the unpacked content) and "compressed" (what a push uploads),
// as the report measures them. A maximum is a number and a unit, with or
// without a space between: B, kB, MB, GB (10³, 10⁶, 10⁹ bytes, the
// report's convention) or KiB, MiB, GiB; "1,585,314 B" as the report
// prints exact bytes is fine too. It must come to whole bytes.
//
// The package is pure: it parses bytes it is given and checks a report it
// is given.
package budget

import (
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/go-multistage/multistage/internal/report"
)

// File is the budget file's name at the repository root.
const File = "budgets.txt"

// Figure is a measured figure of an image that a budget can cap.
type Figure string

// The figures a budget can cap, as the report names them.
const (
	Size       Figure = "size"       // unpacked content: report.Image.SizeBytes
	Compressed Figure = "compressed" // push size: report.Image.CompressedBytes
)

// Budget is one maximum of one figure of one variant.
type Budget struct {
	Variant  string // "hello/scratch"
	Base     string // "" = on any base; else only for an image built on this base
	Platform string // "" = on every platform; else only for an image of this platform ("linux/arm64")
	Figure   Figure
	Max      int64  // bytes
	Text     string // the maximum as written: "1.67 MB"
	File     string // where it is written
	Line     int
}

// where is "budgets.txt:12".
func (b Budget) where() string { return fmt.Sprintf("%s:%d", b.File, b.Line) }

// Budgets are the budgets of one file, in the file's order.
type Budgets []Budget

// Load reads and parses the budget file at path. A file that does not
// exist is no budgets and no error: no gate.
func Load(path string, variants []string) (Budgets, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the budgets: %w", err)
	}
	return Parse(path, data, variants)
}

// Parse parses the budget file data, called file in errors; variants are
// the names a line may budget. The error names the file and line of every
// line it cannot read.
func Parse(file string, data []byte, variants []string) (Budgets, error) {
	var out Budgets
	var errs []error
	for i, line := range strings.Split(string(data), "\n") {
		n := i + 1
		if c := strings.IndexByte(line, '#'); c >= 0 {
			line = line[:c]
		}
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		bs, err := parseLine(fields, variants)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: %w", file, n, err))
			continue
		}
		for _, b := range bs {
			b.File, b.Line = file, n
			if j := slices.IndexFunc(out, func(o Budget) bool {
				return o.Variant == b.Variant && o.Base == b.Base && report.SamePlatform(o.Platform, b.Platform) && o.Figure == b.Figure
			}); j >= 0 {
				errs = append(errs, fmt.Errorf("%s:%d: %s %s has a budget already, on line %d", file, n, b.Variant+b.on(), b.Figure, out[j].Line))
				continue
			}
			out = append(out, b)
		}
	}
	return out, errors.Join(errs...)
}

// on is where the budget holds as a line says it: " on linux/arm64 on
// <base>", "" for everywhere.
func (b Budget) on() string {
	s := ""
	if b.Platform != "" {
		s += " on " + b.Platform
	}
	if b.Base != "" {
		s += " on " + b.Base
	}
	return s
}

// platformRE is an OCI platform as a budget line names one: os/arch or
// os/arch/variant, with os linux, the only one the project builds for.
var platformRE = regexp.MustCompile(`^linux/[a-z0-9_]+(?:/[a-z0-9_]+)?$`)

// parseLine parses the fields of one line:
// variant [on platform] [on base] (figure amount)+, platform and base in
// either order.
func parseLine(f []string, variants []string) ([]Budget, error) {
	name := f[0]
	if !slices.Contains(variants, name) {
		return nil, fmt.Errorf("unknown variant %q: want one of %s", name, strings.Join(variants, ", "))
	}
	f = f[1:]
	var base, platform string
	for len(f) > 0 && f[0] == "on" {
		if len(f) < 2 {
			return nil, fmt.Errorf("%s on: no base or platform named after on", name)
		}
		switch on := f[1]; {
		case platformRE.MatchString(on) && platform != "":
			return nil, fmt.Errorf("%s: on %s and on %s: a line holds for one platform; write a line for each", name, platform, on)
		case platformRE.MatchString(on):
			platform = on
		case base != "":
			return nil, fmt.Errorf("%s: on %s and on %s: a line holds on one base; write a line for each (a platform is linux/<arch>[/<variant>])", name, base, on)
		default:
			base = on
		}
		f = f[2:]
	}
	if len(f) == 0 {
		return nil, fmt.Errorf("%s: no budget: want size <max> and/or compressed <max>, e.g. size 1.67 MB", name)
	}
	var out []Budget
	for len(f) > 0 {
		fig := Figure(f[0])
		if fig != Size && fig != Compressed {
			return nil, fmt.Errorf("%s: %q is not a figure: want size or compressed", name, f[0])
		}
		if len(f) < 2 {
			return nil, fmt.Errorf("%s %s: no maximum after %s", name, fig, fig)
		}
		text, used := f[1], 2
		// "1.67 MB": the unit as a field of its own.
		if len(f) > 2 && numberRE.MatchString(f[1]) && !isFigure(f[2]) {
			text, used = f[1]+" "+f[2], 3
		}
		max, err := ParseBytes(text)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", name, fig, err)
		}
		out = append(out, Budget{Variant: name, Base: base, Platform: platform, Figure: fig, Max: max, Text: text})
		f = f[used:]
	}
	return out, nil
}

func isFigure(s string) bool { return Figure(s) == Size || Figure(s) == Compressed }

// units are the units a maximum may be written in, and their bytes.
var units = []struct {
	name  string
	bytes int64
}{
	{"B", 1}, {"kB", 1_000}, {"MB", 1_000_000}, {"GB", 1_000_000_000},
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
}

// numberRE is a decimal number, its integer part plain or grouped by
// commas in threes ("1,585,314", as the report prints exact bytes).
var numberRE = regexp.MustCompile(`^(?:\d+|\d{1,3}(?:,\d{3})+)(?:\.\d+)?$`)

// amountRE splits "1.67MB" and "1.67 MB" into number and unit.
var amountRE = regexp.MustCompile(`^([\d.,]+)\s*(\S*)$`)

// ParseBytes reads a maximum: a number and a unit ("1.67 MB", "756kB",
// "1,585,314 B", "1.5 MiB") that come to a positive whole number of bytes.
func ParseBytes(s string) (int64, error) {
	m := amountRE.FindStringSubmatch(s)
	if m == nil || !numberRE.MatchString(m[1]) {
		return 0, fmt.Errorf("%q is not a size: want a number and a unit, e.g. 1.67 MB", s)
	}
	if m[2] == "" {
		return 0, fmt.Errorf("%q has no unit: want %s", s, unitNames())
	}
	i := slices.IndexFunc(units, func(u struct {
		name  string
		bytes int64
	}) bool {
		return u.name == m[2]
	})
	if i < 0 {
		return 0, fmt.Errorf("unit %q in %q: want %s (kB, MB, GB are 10³, 10⁶, 10⁹ bytes)", m[2], s, unitNames())
	}
	n, ok := new(big.Rat).SetString(strings.ReplaceAll(m[1], ",", ""))
	if !ok {
		return 0, fmt.Errorf("%q is not a number", m[1])
	}
	n.Mul(n, new(big.Rat).SetInt64(units[i].bytes))
	switch {
	case !n.IsInt():
		return 0, fmt.Errorf("%q is not a whole number of bytes (%s B)", s, n.FloatString(3))
	case n.Sign() <= 0:
		return 0, fmt.Errorf("%q: a budget must be more than 0 bytes", s)
	case !n.Num().IsInt64():
		return 0, fmt.Errorf("%q is too large", s)
	}
	return n.Num().Int64(), nil
}

func unitNames() string {
	names := make([]string, len(units))
	for i, u := range units {
		names[i] = u.name
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
