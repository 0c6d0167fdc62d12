package budget

import (
	"fmt"
	"math/big"
	"slices"
	"strings"

	"github.com/go-multistage/multistage/internal/report"
)

// Result is what checking a report against the budgets found.
type Result struct {
	// Breaches fail the run: one line per figure over its budget, and per
	// budgeted figure that could not be measured (a gate that cannot see
	// stays shut).
	Breaches []string
	// Notes do not: at most one line, naming the images whose budgets
	// hold only on another base than the one they were built on.
	Notes []string
}

// Check checks every image of r against the budgets. An image that failed
// or could not be measured is not checked (it fails the run already: see
// report.Unmeasured), nor a variant that is not in r.
func (bs Budgets) Check(r report.Report) Result {
	var res Result
	var elsewhere []unchecked
	for _, img := range r.Images {
		if img.Status != report.OK {
			continue
		}
		name := img.App + "/" + img.Variant
		for _, fig := range []Figure{Size, Compressed} {
			b, others := bs.For(name, img.Base, fig)
			if b == nil {
				if len(others) > 0 {
					elsewhere = append(elsewhere, unchecked{name, img.Base, others})
				}
				continue
			}
			got, known := figure(img, fig)
			switch {
			case !known:
				why := string(img.Status)
				if img.Error != "" {
					why += ": " + img.Error
				}
				res.Breaches = append(res.Breaches, fmt.Sprintf("%s: %s not known (%s), so its budget of %s (%s) cannot be checked",
					name, fig, why, b.Text, b.where()))
			case got > b.Max:
				res.Breaches = append(res.Breaches, Breach(name, *b, got))
			}
		}
	}
	if n := notCheckedNote(elsewhere); n != "" {
		res.Notes = []string{n}
	}
	return res
}

// unchecked is a budgeted figure of image name that was not checked: the
// image was built on base, and the budgets hold on others only.
type unchecked struct {
	name, base string
	others     []string // "multistage-standin/busybox:1.35.0 (budgets.txt:14)"
}

// notCheckedNote says in one line which images were not checked against
// their budgets, on which base they were built and where the budgets
// hold; "" when there are none:
//
//	not checked, budgeted on another base only: hello/alpine, echo/alpine (built on multistage-standin/alpine-minimal:3.22; budgets on multistage-standin/busybox:1.35.0 (budgets.txt:26), …)
func notCheckedNote(us []unchecked) string {
	type group struct {
		base   string
		names  []string
		others []string
	}
	var groups []*group
	find := func(base string) *group {
		for _, g := range groups {
			if g.base == base {
				return g
			}
		}
		g := &group{base: base}
		groups = append(groups, g)
		return g
	}
	for _, u := range us {
		g := find(u.base)
		if !slices.Contains(g.names, u.name) {
			g.names = append(g.names, u.name)
		}
		for _, o := range u.others {
			if !slices.Contains(g.others, o) {
				g.others = append(g.others, o)
			}
		}
	}
	var parts []string
	for _, g := range groups {
		parts = append(parts, fmt.Sprintf("%s (built on %s; budgets on %s)", strings.Join(g.names, ", "), g.base, byBase(g.others)))
	}
	if len(parts) == 0 {
		return ""
	}
	return "not checked, budgeted on another base only: " + strings.Join(parts, "; ")
}

// byBase merges "base (budgets.txt:14)" entries of one base into
// "base (budgets.txt:14, 15)".
func byBase(others []string) string {
	var bases []string
	where := map[string][]string{}
	for _, o := range others {
		base, at := o, ""
		if i := strings.LastIndex(o, " ("); i >= 0 && strings.HasSuffix(o, ")") {
			base, at = o[:i], o[i+2:len(o)-1]
		}
		if !slices.Contains(bases, base) {
			bases = append(bases, base)
		}
		if at == "" {
			continue
		}
		if file, line, ok := strings.Cut(at, ":"); ok && len(where[base]) > 0 && strings.HasPrefix(where[base][0], file+":") {
			at = line // the file is named once
		}
		where[base] = append(where[base], at)
	}
	for i, b := range bases {
		if len(where[b]) > 0 {
			bases[i] += " (" + strings.Join(where[b], ", ") + ")"
		}
	}
	return strings.Join(bases, ", ")
}

// withoutRegistry is base without the registry it was pulled from when
// that is a host of its own (a dot or a port in the first part, or
// localhost), and without a digest: a stand-in pushed for a remote builder
// (127.0.0.1:5000/multistage-standin/busybox:1.35.0) is the same image as
// the one the budgets name (multistage-standin/busybox:1.35.0). Images of
// Docker Hub keep their names (alpine:3.22).
func withoutRegistry(base string) string {
	base, _, _ = strings.Cut(base, "@")
	if host, rest, ok := strings.Cut(base, "/"); ok && (strings.ContainsAny(host, ".:") || host == "localhost") {
		return rest
	}
	return base
}

// For is the budget of the figure of variant name built on base: the one
// for that base if there is one, else the one for any base. When neither
// is there, others lists where the variant has a budget of that figure on
// other bases ("multistage-standin/busybox:1.35.0 (budgets.txt:14)").
func (bs Budgets) For(name, base string, fig Figure) (b *Budget, others []string) {
	var any *Budget
	for i := range bs {
		c := &bs[i]
		switch {
		case c.Variant != name || c.Figure != fig:
		case base != "" && (c.Base == base || c.Base == withoutRegistry(base)):
			return c, nil
		case c.Base == "":
			any = c
		default:
			others = append(others, c.Base+" ("+c.where()+")")
		}
	}
	if any != nil {
		return any, nil
	}
	return nil, others
}

func figure(img report.Image, fig Figure) (int64, bool) {
	if img.Status != report.OK {
		return 0, false
	}
	switch fig {
	case Size:
		return img.SizeBytes, img.SizeBytes >= 0
	case Compressed:
		if img.CompressedBytes != nil && *img.CompressedBytes >= 0 {
			return *img.CompressedBytes, true
		}
	}
	return 0, false
}

// Breach is the line that says the figure of variant name, got bytes, is
// over budget b:
//
//	hello/scratch: size 1,785,314 B is over its budget of 1.67 MB (1,670,000 B) by 115,314 B (+6.9%) (budgets.txt:9)
func Breach(name string, b Budget, got int64) string {
	over := got - b.Max
	return fmt.Sprintf("%s: %s %s B is over its budget of %s (%s B) by %s B (%s) (%s)",
		name, b.Figure, report.GroupThousands(got), b.Text, report.GroupThousands(b.Max),
		report.GroupThousands(over), overPercent(over, b.Max), b.where())
}

// overPercent is over as a percentage of max, with a sign and one
// decimal, rounded half up; "+<0.1%" rather than "+0.0%" for a breach of
// less than that.
func overPercent(over, max int64) string {
	// Tenths of a percent: floor((over*2000 + max) / (2*max)).
	q := new(big.Int).Mul(big.NewInt(over), big.NewInt(2000))
	q.Add(q, big.NewInt(max))
	q.Quo(q, new(big.Int).Mul(big.NewInt(max), big.NewInt(2)))
	t := q.Int64()
	if t == 0 {
		return "+<0.1%"
	}
	return fmt.Sprintf("+%d.%d%%", t/10, t%10)
}
