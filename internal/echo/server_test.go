package echo

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// waitBound only catches hangs: nothing here waits for a clock.
const waitBound = time.Minute

func TestNewServer(t *testing.T) {
	h := Handler()
	srv := NewServer(":0", h)
	if srv.Addr != ":0" || srv.Handler == nil {
		t.Errorf("NewServer: Addr = %q, Handler = %v", srv.Addr, srv.Handler)
	}
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout <= 0 || srv.WriteTimeout <= 0 ||
		srv.IdleTimeout <= 0 || srv.MaxHeaderBytes <= 0 {
		t.Errorf("NewServer: limits not all set: %+v", srv)
	}
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

type result struct {
	status int
	body   string
	err    error
}

func get(url string) result {
	resp, err := http.Get(url)
	if err != nil {
		return result{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return result{resp.StatusCode, string(b), err}
}

func TestServeGracefulShutdown(t *testing.T) {
	// The one request is held in its handler until shutdown is under way.
	started, release := make(chan struct{}), make(chan struct{})
	held := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		Handler().ServeHTTP(w, r)
	})
	ln := listen(t)
	addr := ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, held, nil) }()

	res := make(chan result, 1)
	go func() { res <- get("http://" + addr + "/alpacas") }()
	select {
	case <-started:
	case <-time.After(waitBound):
		t.Fatal("request never reached the handler")
	}
	cancel()
	// Shutdown is under way once the listener is closed.
	for deadline := time.Now().Add(waitBound); ; time.Sleep(10 * time.Millisecond) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("still listening after cancel")
		}
	}
	select {
	case err := <-done:
		t.Fatalf("Serve returned %v with a request in flight", err)
	default:
	}
	close(release)

	select {
	case r := <-res:
		if r.err != nil || r.status != 200 || r.body != "I love alpacas!" {
			t.Errorf("in-flight GET %q = %d %q (err %v), want %d %q", "/alpacas", r.status, r.body, r.err, 200, "I love alpacas!")
		}
	case <-time.After(waitBound):
		t.Fatal("in-flight request did not complete")
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve = %v, want nil", err)
		}
	case <-time.After(waitBound):
		t.Fatal("Serve did not return after cancel")
	}
}

func TestServeIdleShutdown(t *testing.T) {
	ln := listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, Handler(), nil) }()

	// One request makes sure the server is up and leaves an idle
	// keep-alive connection behind.
	if r := get("http://" + ln.Addr().String() + "/alpacas"); r.err != nil || r.status != 200 {
		t.Fatalf("GET %q = %d %q (err %v), want 200", "/alpacas", r.status, r.body, r.err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve = %v, want nil", err)
		}
	case <-time.After(waitBound):
		// Idle keep-alive connections holding it up would have made it
		// return Shutdown's time-out error instead, within ShutdownTimeout.
		t.Fatalf("idle Serve did not return within %v of cancel", waitBound)
	}
}

func TestRunListenError(t *testing.T) {
	ln := listen(t) // occupy a port
	defer ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // so a Run that wrongly succeeds returns at once
	err := Run(ctx, ln.Addr().String(), nil)
	if err == nil || !strings.Contains(err.Error(), "listen") {
		t.Errorf("Run on a busy address = %v, want a listen error", err)
	}
}
