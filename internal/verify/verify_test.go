package verify

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/go-multistage/multistage/internal/docker"
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
			f.run = func(ctx context.Context, c docker.Cmd) (string, error) {
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
			var failed *docker.CmdError
			f.run = func(_ context.Context, c docker.Cmd) (string, error) {
				failed = &docker.CmdError{Args: c.Args, Err: errors.New("exit status 125"),
					Output: "docker: Error response from daemon: unable to find user nobody: no matching entries in passwd file."}
				return "", failed
			}
			_, err := Run(context.Background(), f.client(), tt.variant, imageID, runID)
			var ce *docker.CmdError
			if !errors.As(err, &ce) || ce != failed {
				t.Errorf("Run(failing docker run) = %v, want docker run's own *docker.CmdError %v", err, failed)
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
				f.run = func(ctx context.Context, c docker.Cmd) (string, error) {
					cancel()
					<-ctx.Done() // as docker.Exec: the process is killed
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
