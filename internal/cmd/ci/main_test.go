package main

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/go-multistage/multistage/internal/report"
)

func TestSchema(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"schema"}, &out, &out); err != nil || out.String() != strconv.Itoa(report.Schema)+"\n" {
		t.Errorf("run(schema) = %q, %v; want %d", out.String(), err, report.Schema)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"schema", "ping"}, {"version"}} {
		var out bytes.Buffer
		err := run(context.Background(), args, &out, &out)
		if err == nil || !strings.Contains(err.Error(), "usage: go run ./internal/cmd/ci") || out.Len() != 0 {
			t.Errorf("run(%q) = %q, %v; want no answer and the usage", args, out.String(), err)
		}
	}
}
