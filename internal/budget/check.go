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
	// hold only on another base or platform than theirs.
	Notes []string
}

// Check checks every image of r against the budgets, each against the
// one for its variant, platform and base (see ForPlatform). An image that
// failed, was not run or could not be measured is not checked (it fails
// the run already: see report.Unmeasured), nor a variant that is not in r.
// Lines name an image as the progress lines do: "hello/scratch on
// linux/arm64" for another platform than the engine's.
func (bs Budgets) Check(r report.Report) Result {
	var res Result
	var elsewhere []unchecked
	multi := len(r.Platforms()) > 1
	for _, img := range r.Images {
		if img.Status != report.OK {
			continue
		}
		variant, name := img.App+"/"+img.Variant, img.Name()
		for _, fig := range []Figure{Size, Compressed} {
			b, others := bs.ForPlatform(variant, img.Platform, img.Base, fig)
			if b == nil {
				if len(others) > 0 {
					u := unchecked{name: variant, base: img.Base, others: others}
					// The platform is named where it tells images apart,
					// or is why the budgets do not hold.
					if multi || slices.ContainsFunc(others, func(o Budget) bool { return o.Platform != "" }) {
						u.platform = img.Platform
						if u.platform == "" {
							u.platform = "platform not known"
						}
					}
					elsewhere = append(elsewhere, u)
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

// unchecked is a budgeted figure of variant name that was not checked:
// its image was built on base (for platform, when that is to be named),
// and the budgets of that figure hold elsewhere.
type unchecked struct {
	name, platform, base string
	others               []Budget
}

// notCheckedNote says in one line which images were not checked against
// their budgets, on which base (and platform, where it is named) they
// were built and where the budgets hold; "" when there are none:
//
//	not checked, budgeted on another base only: hello/alpine, echo/alpine (built on multistage-standin/rootfs:minimal; budgets on multistage-standin/busybox:1.35.0 (budgets.txt:28, 29))
//	not checked, budgeted on another base only: hello/alpine, echo/alpine (linux/arm64, built on multistage-standin/rootfs:minimal-linux-arm64; budgets on multistage-standin/busybox:1.35.0 (budgets.txt:28, 29))
func notCheckedNote(us []unchecked) string {
	type place struct{ platform, base string }
	var places []place              // the images' platforms and bases, in order
	names := map[place][]string{}   // by place, only looked up
	budgets := map[place][]Budget{} // by place, only looked up
	onBase, onPlatform := false, false
	for _, u := range us {
		w := place{u.platform, u.base}
		if !slices.Contains(places, w) {
			places = append(places, w)
		}
		if !slices.Contains(names[w], u.name) {
			names[w] = append(names[w], u.name)
		}
		for _, o := range u.others {
			// A line budgets both figures: it is named once.
			if !slices.ContainsFunc(budgets[w], func(b Budget) bool { return b.where() == o.where() }) {
				budgets[w] = append(budgets[w], o)
			}
			onBase = onBase || o.Base != ""
			onPlatform = onPlatform || o.Platform != ""
		}
	}
	var parts []string
	for _, w := range places {
		built := "built on " + w.base
		if w.platform != "" {
			built = w.platform + ", " + built
		}
		parts = append(parts, fmt.Sprintf("%s (%s; budgets on %s)", strings.Join(names[w], ", "), built, scopes(budgets[w])))
	}
	if len(parts) == 0 {
		return ""
	}
	elsewhere := "another base"
	switch {
	case onBase && onPlatform:
		elsewhere = "another base or platform"
	case onPlatform:
		elsewhere = "another platform"
	}
	return "not checked, budgeted on " + elsewhere + " only: " + strings.Join(parts, "; ")
}

// scopes says where budgets hold and where they are written, a place and
// a file once: "multistage-standin/busybox:1.35.0 (budgets.txt:28, 29)",
// "linux/arm64 on multistage-standin/rootfs:minimal-linux-arm64 (budgets.txt:31)".
func scopes(budgets []Budget) string {
	var parts []string
	for i, b := range budgets {
		if i > 0 && b.on() == budgets[i-1].on() {
			at := strconv.Itoa(b.Line)
			if b.File != budgets[i-1].File {
				at = b.where()
			}
			parts[len(parts)-1] = strings.TrimSuffix(parts[len(parts)-1], ")") + ", " + at + ")"
			continue
		}
		parts = append(parts, strings.TrimPrefix(b.on(), " on ")+" ("+b.where()+")")
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

// For is the budget of the figure of variant name built on base, for an
// image whose platform is not known: only lines that name no platform
// hold for it. See ForPlatform.
func (bs Budgets) For(name, base string, fig Figure) (b *Budget, others []Budget) {
	return bs.ForPlatform(name, "", base, fig)
}

// ForPlatform is the budget of the figure of variant name built on base,
// for an image of platform: of the lines that hold for it (on no base or
// on base, on no platform or on platform), the one that names the most,
// a base counting for more than a platform: base and platform, then
// base, then platform, then neither. When none holds, others are the
// variant's budgets of that figure that hold elsewhere: on another base on
// its platform, or, where there are none, on another platform.
func (bs Budgets) ForPlatform(name, platform, base string, fig Figure) (b *Budget, others []Budget) {
	best, rank := -1, -1
	for i, c := range bs {
		if c.Variant != name || c.Figure != fig {
			continue
		}
		onBase := c.Base == "" || base != "" && (c.Base == base || c.Base == withoutRegistry(base))
		onPlatform := c.Platform == "" || platform != "" && report.SamePlatform(c.Platform, platform)
		if !onBase || !onPlatform {
			others = append(others, c)
			continue
		}
		r := 0
		if c.Base != "" {
			r += 2
		}
		if c.Platform != "" {
			r++
		}
		if r > rank {
			best, rank = i, r
		}
	}
	if best >= 0 {
		return &bs[best], nil
	}
	// The lines of the image's own platform are where its budgets are
	// said to hold; another platform's lines are named only where its own
	// has none (then they are why it went unchecked).
	mine := slices.DeleteFunc(slices.Clone(others), func(c Budget) bool {
		return c.Platform != "" && (platform == "" || !report.SamePlatform(c.Platform, platform))
	})
	if len(mine) > 0 {
		return nil, mine
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
