package load

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const body = "I love alpacas!"

// server answers like the echo server, and counts the requests and the
// connections it sees.
func server(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	s := httptest.NewUnstartedServer(h)
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	return s, &conns
}

func TestRunStopsAtTheRequestCountOverKeepAlive(t *testing.T) {
	var hits atomic.Int64
	s, conns := server(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte(body))
	})
	res, err := Run(context.Background(), Config{URL: s.URL + "/alpacas", Conns: 4, Requests: 500, Duration: 30 * time.Second, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK != 500 || res.Failed() != 0 || hits.Load() != 500 {
		t.Errorf("Run(500 requests) = %s; server saw %d, want 500 ok and 0 failed", res, hits.Load())
	}
	if n := conns.Load(); n > 4 {
		t.Errorf("Run(4 conns) opened %d connections, want at most 4 (keep-alive)", n)
	}
	if res.RPS() <= 0 || res.P50 <= 0 || res.P50 > res.P90 || res.P90 > res.P99 || res.P99 > res.Max {
		t.Errorf("Run() = %s, want a positive rate and ordered percentiles", res)
	}
}

// The server answers the first 5 requests and holds every later one until
// its client gives up, so only the time cap can end the run; the cap is
// long enough for 5 answers over loopback on the slowest machine.
func TestRunStopsAtTheTimeCap(t *testing.T) {
	var n atomic.Int64
	release := make(chan struct{})
	s, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) > 5 {
			select {
			case <-r.Context().Done():
			case <-release:
			case <-time.After(time.Minute): // a safety net: the cap ends it long before
			}
			return
		}
		w.Write([]byte(body))
	})
	t.Cleanup(func() { close(release) }) // before the server's Close
	start := time.Now()
	res, err := Run(context.Background(), Config{URL: s.URL, Conns: 2, Requests: 1_000_000, Duration: 2 * time.Second, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 2*time.Second || took > 30*time.Second {
		t.Errorf("Run(2s cap) took %s, want the cap, not the held requests", took)
	}
	// Requests the cap cut short are neither good nor failed.
	if res.OK != 5 || res.Failed() != 0 {
		t.Errorf("Run(2s cap, 5 answers then none) = %s, want 5 ok, none failed", res)
	}
}

func TestRunEndsWhenStopIsClosed(t *testing.T) {
	stop := make(chan struct{})
	var n atomic.Int64
	s, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 10 {
			close(stop)
		}
		w.Write([]byte(body))
	})
	// One connection: the first 9 answers are in before the 10th is asked.
	res, err := Run(context.Background(), Config{URL: s.URL, Conns: 1, Requests: 1_000_000_000, Duration: time.Hour, Body: body, Stop: stop})
	if err != nil || res.OK < 9 || res.OK > 10 || res.Failed() != 0 {
		t.Errorf("Run(stopped at the 10th request) = %s, %v; want 9 or 10 ok, none failed", res, err)
	}
}

func TestRunCountsEveryKindOfFailure(t *testing.T) {
	var n atomic.Int64
	s, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) % 4 {
		case 0:
			w.Write([]byte(body))
		case 1:
			http.Error(w, "nope", http.StatusServiceUnavailable)
		case 2:
			w.Write([]byte("I love llamas!"))
		case 3: // not HTTP at all: a transport error
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Write([]byte("garbage\r\n\r\n"))
			conn.Close()
		}
	})
	res, err := Run(context.Background(), Config{URL: s.URL, Conns: 1, Requests: 40, Duration: 30 * time.Second, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK != 10 || res.Non200 != 10 || res.BadBody != 10 || res.Errors != 10 || res.FirstError == "" {
		t.Errorf("Run() = %s (first error %q), want 10 of each kind and a first error", res, res.FirstError)
	}
}

func TestRunRefusesUnboundedOrForeignLoad(t *testing.T) {
	tests := []struct {
		description string
		c           Config
		want        string
	}{
		{"no request count", Config{URL: "http://127.0.0.1:1/", Conns: 1, Duration: time.Second}, "request count"},
		{"no time cap", Config{URL: "http://127.0.0.1:1/", Conns: 1, Requests: 1}, "time cap"},
		{"no connections", Config{URL: "http://127.0.0.1:1/", Requests: 1, Duration: time.Second}, "connections"},
		{"a public address", Config{URL: "http://8.8.8.8/", Conns: 1, Requests: 1, Duration: time.Second}, "neither loopback nor private"},
		{"a host name", Config{URL: "http://localhost:8080/", Conns: 1, Requests: 1, Duration: time.Second}, "not an IP address"},
		{"https", Config{URL: "https://127.0.0.1/", Conns: 1, Requests: 1, Duration: time.Second}, "want http://"},
	}
	for _, tt := range tests {
		_, err := Run(context.Background(), tt.c)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Run(%+v) = %v, want an error containing %q", tt.description, tt.c, err, tt.want)
		}
	}
	for _, ok := range []string{"127.0.0.1", "::1", "172.17.0.2", "10.1.2.3", "192.168.0.9", "fd00::2"} {
		if err := AllowedHost(ok); err != nil {
			t.Errorf("AllowedHost(%s) = %v, want nil", ok, err)
		}
	}
}

func TestRunCancelledIsAnError(t *testing.T) {
	s, _ := server(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(body)) })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := Run(ctx, Config{URL: s.URL, Conns: 2, Requests: 1_000_000_000, Duration: time.Minute})
	if err == nil || !strings.Contains(err.Error(), "deadline exceeded") {
		t.Errorf("Run(cancelled) = %v, want the context's error", err)
	}
}

func TestPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		var d []time.Duration
		for _, n := range ns {
			d = append(d, time.Duration(n)*time.Millisecond)
		}
		return d
	}
	tests := []struct {
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{nil, 50, 0},
		{ms(7), 99, 7 * time.Millisecond},
		{ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{ms(1, 2, 3, 4), 51, 3 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 90, 9 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10 * time.Millisecond},
		{ms(1, 2, 3), 0, 1 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := Percentile(tt.sorted, tt.p); got != tt.want {
			t.Errorf("Percentile(%v, %v) = %v, want %v", tt.sorted, tt.p, got, tt.want)
		}
	}
}

func TestReachable(t *testing.T) {
	s, _ := server(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(body)) })
	if err := Reachable(context.Background(), s.URL, body, 30*time.Second); err != nil { // returns at the first answer
		t.Errorf("Reachable(up) = %v, want nil", err)
	}
	err := Reachable(context.Background(), s.URL, "I love llamas!", 200*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "llamas") {
		t.Errorf("Reachable(wrong body) = %v, want an error naming the body", err)
	}
	s.Close()
	err = Reachable(context.Background(), s.URL, body, 200*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "unreachable within 200ms") {
		t.Errorf("Reachable(down) = %v, want an unreachable error", err)
	}
}
