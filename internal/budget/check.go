package budget

import (
	"fmt"
	"math/big"
	"slices"
	"strconv"
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
// image was built on base, and the budgets of that figure hold on others.
type unchecked struct {
	name, base string
	others     []Budget
}

// notCheckedNote says in one line which images were not checked against
// their budgets, on which base they were built and where the budgets
// hold; "" when there are none:
//
//	not checked, budgeted on another base only: hello/alpine, echo/alpine (built on multistage-standin/rootfs:minimal; budgets on multistage-standin/busybox:1.35.0 (budgets.txt:28, 29))
func notCheckedNote(us []unchecked) string {
	var bases []string               // the images' bases, in order
	names := map[string][]string{}   // by image base
	budgets := map[string][]Budget{} // by image base
	for _, u := range us {
		if !slices.Contains(bases, u.base) {
			bases = append(bases, u.base)
		}
		if !slices.Contains(names[u.base], u.name) {
			names[u.base] = append(names[u.base], u.name)
		}
		for _, o := range u.others {
			// A line budgets both figures: it is named once.
			if !slices.ContainsFunc(budgets[u.base], func(b Budget) bool { return b.where() == o.where() }) {
				budgets[u.base] = append(budgets[u.base], o)
			}
		}
	}
	var parts []string
	for _, base := range bases {
		parts = append(parts, fmt.Sprintf("%s (built on %s; budgets on %s)", strings.Join(names[base], ", "), base, where(budgets[base])))
	}
	if len(parts) == 0 {
		return ""
	}
	return "not checked, budgeted on another base only: " + strings.Join(parts, "; ")
}

// where says on which bases budgets hold and where they are written, a
// base and a file once: "multistage-standin/busybox:1.35.0 (budgets.txt:28, 29)".
func where(budgets []Budget) string {
	var parts []string
	for i, b := range budgets {
		if i > 0 && b.Base == budgets[i-1].Base {
			at := strconv.Itoa(b.Line)
			if b.File != budgets[i-1].File {
				at = b.where()
			}
			parts[len(parts)-1] = strings.TrimSuffix(parts[len(parts)-1], ")") + ", " + at + ")"
			continue
		}
		parts = append(parts, b.Base+" ("+b.where()+")")
	}
	return strings.Join(parts, ", ")
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
// is there, others are the variant's budgets of that figure on other
// bases.
func (bs Budgets) For(name, base string, fig Figure) (b *Budget, others []Budget) {
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
			others = append(others, *c)
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
