package docker

import (
	"context"
	"strings"
	"testing"

	"github.com/go-multistage/multistage/internal/proc"
)

func TestAPIVersion(t *testing.T) {
	for _, tt := range []struct {
		description string
		out         string
		want        string
		wantErr     bool
	}{
		{"Engine 29", "1.52\n", "1.52", false},
		{"nothing", "\n", "", true},
		{"two words: not the field asked for", "1.52 1.24\n", "", true},
	} {
		var ran string
		c := &Client{Docker: "docker", Run: func(_ context.Context, cmd proc.Cmd) (string, error) {
			ran = strings.Join(cmd.Args[1:], " ")
			return tt.out, nil
		}}
		got, err := c.APIVersion(context.Background())
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("%s: APIVersion() = %q, %v; want %q, error %v", tt.description, got, err, tt.want, tt.wantErr)
		}
		if want := "version --format {{.Server.APIVersion}}"; ran != want {
			t.Errorf("%s: APIVersion() ran %q, want %q", tt.description, ran, want)
		}
	}
}
