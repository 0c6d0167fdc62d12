package image

import (
	"flag"
	"fmt"
	"os"
	"testing"
)

// fuzzMinimize is how much minimizing an input FuzzRead found is worth,
// in calls of the fuzz function, where -fuzzminimizetime does not say.
//
// Go's default is 60 seconds for every input that reaches new code, and
// FuzzRead's inputs are tars of kilobytes, each call reading up to four
// saves four times: minimizing one never ends before its time is up,
// during which the worker fuzzes nothing, so a 30-second run did nothing
// but minimize its first two finds. A count, unlike a time, also lets the
// worker finish and report: at the end of a time the coordinating process
// may stop waiting first, then stops the worker and starts another, and
// the calls it made are lost. A hundred calls cut a tar's padding off the end, which is
// most of what shrinking a tar can do; a crasher can be minimized
// further by giving -fuzzminimizetime when running it again.
const fuzzMinimize = "100x"

func TestMain(m *testing.M) {
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.fuzzminimizetime" })
	if !given {
		if err := flag.Set("test.fuzzminimizetime", fuzzMinimize); err != nil {
			fmt.Fprintf(os.Stderr, "setting -test.fuzzminimizetime to %s: %v\n", fuzzMinimize, err)
			os.Exit(2)
		}
	}
	os.Exit(m.Run())
}
