package verify

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/go-multistage/multistage/internal/proc"
	"github.com/go-multistage/multistage/internal/variant"
)

func TestRunChecksTheExactStdout(t *testing.T) {
	tests := []struct {
		description string
		stdout      string // what the program prints
		wantErr     string // "": the check passes
	}{
		{description: "the exact stdout passes", stdout: "Hello world!\n"},
		{description: "no newline at the end fails", stdout: "Hello world!",
			wantErr: `stdout = "Hello world!", want "Hello world!\n"`},
		{description: "other words fail", stdout: "Hello, world!\n",
			wantErr: `stdout = "Hello, world!\n", want "Hello world!\n"`},
		{description: "a line more fails", stdout: "Hello world!\nbye\n",
			wantErr: `stdout = "Hello world!\nbye\n", want "Hello world!\n"`},
		{description: "nothing fails", stdout: "",
			wantErr: `stdout = "", want "Hello world!\n"`},
	}
	for _, tt := range tests {
		t.Run(tt.description, func(t *testing.T) {
			f := newFake(t)
			f.run = func(ctx context.Context, c proc.Cmd) (string, error) {
				if _, ok := ctx.Deadline(); !ok {
					t.Errorf("docker run %q has no deadline, want one of RunTimeout", c.Args)
				}
				return tt.stdout, nil
			}
			_, err := Run(context.Background(), f.client(), hello, imageID, runID)
			if got := fmt.Sprint(err); tt.wantErr == "" && err != nil || tt.wantErr != "" && got != tt.wantErr {
				t.Errorf("Run(stdout %q) = %v, want %s", tt.stdout, err, cmp.Or(tt.wantErr, "nil"))
			}
			f.checkRemoved()
		})
	}
}

func TestRunReturnsTheErrorOfAFailedRun(t *testing.T) {
	for _, tt := range []struct {
		description string
		variant     variant.Variant
	}{
		{description: "a program", variant: hello},
		{description: "a server", variant: echo},
	} {
		t.Run(tt.description, func(t *testing.T) {
			f := newFake(t)
			var failed *proc.Error
			f.run = func(_ context.Context, c proc.Cmd) (string, error) {
				failed = &proc.Error{Args: c.Args, Err: errors.New("exit status 125"),
					Output: "docker: Error response from daemon: unable to find user nobody: no matching entries in passwd file."}
				return "", failed
			}
			_, err := Run(context.Background(), f.client(), tt.variant, imageID, runID)
			var ce *proc.Error
			if !errors.As(err, &ce) || ce != failed {
				t.Errorf("Run(failing docker run) = %v, want docker run's own *proc.Error %v", err, failed)
			}
			if ports := f.commands("port"); len(ports) != 0 {
				t.Errorf("after a failed docker run, docker port ran %d times, want none", len(ports))
			}
			f.checkRemoved()
		})
	}
}

func TestRunRemovesTheContainerWhenCancelled(t *testing.T) {
	for _, tt := range []struct {
		description string
		variant     variant.Variant
		during      bool // cancel while docker run runs, not before Run
	}{
		{description: "a program, cancelled before", variant: hello},
		{description: "a program, cancelled while it runs", variant: hello, during: true},
		{description: "a server, cancelled before", variant: echo},
		{description: "a server, cancelled while it starts", variant: echo, during: true},
	} {
		t.Run(tt.description, func(t *testing.T) {
			f := newFake(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.during {
				f.run = func(ctx context.Context, c proc.Cmd) (string, error) {
					cancel()
					<-ctx.Done() // as proc.Exec: the process is killed
					return "", killed(ctx, c)
				}
			} else {
				cancel()
			}
			_, err := Run(ctx, f.client(), tt.variant, imageID, runID)
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Run(cancelled ctx) = %v, want an error wrapping context.Canceled", err)
			}
			f.checkRemoved()
		})
	}
}

func TestRunRunsTheImageHardenedLabelledAndNamed(t *testing.T) {
	tests := []struct {
		description string
		variant     variant.Variant
		want        [][2]string // flag and value pairs the argv holds, besides those of every run
	}{
		{description: "a program", variant: hello},
		{description: "a server", variant: echo, want: [][2]string{
			{"--publish", "127.0.0.1::8080"}, // loopback only, a free host port
		}},
	}
	for _, tt := range tests {
		t.Run(tt.description, func(t *testing.T) {
			f := newFake(t)
			f.run = func(ctx context.Context, c proc.Cmd) (string, error) {
				return tt.variant.Check.Stdout, nil
			}
			if tt.variant.Check.Path != "" {
				f.serve(answering(t, tt.variant.Check.Path, tt.variant.Check.Body))
			}
			if _, err := Run(context.Background(), f.client(), tt.variant, imageID, runID); err != nil {
				t.Fatalf("Run(%s) = %v, want nil", tt.variant.Name(), err)
			}
			args := f.runArgs()
			if got := args[len(args)-1]; got != imageID {
				t.Errorf("docker run %q runs %q, want the image ID %q", args, got, imageID)
			}
			if slices.ContainsFunc(args, func(a string) bool { return strings.Contains(a, tt.variant.Image()) }) {
				t.Errorf("docker run %q names the tag %q, want only the image ID", args, tt.variant.Image())
			}
			want := append([][2]string{
				{"--pull", "never"},
				{"--read-only", ""},
				{"--cap-drop", "ALL"},
				{"--security-opt", "no-new-privileges"},
				{"--label", variant.ProjectLabel + "=container"},
				{"--label", RunLabel + "=" + runID},
			}, tt.want...)
			for _, w := range want {
				if w[1] == "" && !slices.Contains(args, w[0]) || w[1] != "" && !slices.Contains(flagValues(args, w[0]), w[1]) {
					t.Errorf("docker run %q lacks %s", args, strings.TrimSpace(w[0]+" "+w[1]))
				}
			}
			if detach := slices.Contains(args, "--detach"); detach != (tt.variant.Check.Path != "") {
				t.Errorf("docker run %q: --detach = %v, want it for a server only", args, detach)
			}
			name := flagValues(args, "--name")
			if prefix := "multistage-" + tt.variant.Dir + "-" + tt.variant.Style.Name + "-"; len(name) != 1 || !strings.HasPrefix(name[0], prefix) {
				t.Errorf("docker run --name %q, want one name starting %q", name, prefix)
			}
			f.checkRemoved()
		})
	}
}

func TestRunNamesEachContainerAnew(t *testing.T) {
	var names []string
	for range 2 {
		f := newFake(t)
		f.run = func(context.Context, proc.Cmd) (string, error) { return hello.Check.Stdout, nil }
		if _, err := Run(context.Background(), f.client(), hello, imageID, runID); err != nil {
			t.Fatalf("Run(%s) = %v, want nil", hello.Name(), err)
		}
		names = append(names, flagValues(f.runArgs(), "--name")...)
	}
	if len(names) != 2 || names[0] == names[1] {
		t.Errorf("two runs of %s are named %q, want two different names", hello.Name(), names)
	}
}

func TestContainerName(t *testing.T) {
	shape := regexp.MustCompile(`^multistage-echo_app_multistage-alpine-[0-9a-f]{8}$`)
	a, b := ContainerName(echo), ContainerName(echo)
	for _, got := range []string{a, b} {
		if !shape.MatchString(got) {
			t.Errorf("ContainerName(%s) = %q, want it to match %s", echo.Name(), got, shape)
		}
	}
	if a == b {
		t.Errorf("ContainerName(%s) = %q twice, want a new name each time", echo.Name(), a)
	}
}
