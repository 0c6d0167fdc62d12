package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Config is one bounded load run.
type Config struct {
	URL      string          // http://<loopback or private IP>:<port>/<path>
	Conns    int             // connections, each with its own sender
	Requests int             // at most this many requests in all
	Duration time.Duration   // and for at most this long
	Timeout  time.Duration   // per request; 0 means 5 s
	Body     string          // the body every answer must have; "" checks none
	Stop     <-chan struct{} // closing it ends the run as the time cap does; nil never does
}

// Result is what a run saw. Requests cut short by the time cap or Stop are
// not counted: they neither succeeded nor failed.
type Result struct {
	OK      int // 200 with the expected body
	Errors  int // the request failed: refused, reset, timed out
	Non200  int // an answer with another status
	BadBody int // 200 with another body
	Elapsed time.Duration
	// FirstError is the first failure of any kind, to say what went wrong.
	FirstError string
	// Latencies of the good answers.
	P50, P90, P99, Max time.Duration
}

// Failed is every request that did not get a good answer.
func (r Result) Failed() int { return r.Errors + r.Non200 + r.BadBody }

// RPS is good answers per second.
func (r Result) RPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.OK) / r.Elapsed.Seconds()
}

func (r Result) String() string {
	return fmt.Sprintf("%d ok, %d failed (%d errors, %d non-200, %d wrong body) in %.2fs: %.0f req/s, p50 %s p90 %s p99 %s max %s",
		r.OK, r.Failed(), r.Errors, r.Non200, r.BadBody, r.Elapsed.Seconds(), r.RPS(),
		round(r.P50), round(r.P90), round(r.P99), round(r.Max))
}

func round(d time.Duration) time.Duration {
	if d < time.Millisecond {
		return d.Round(time.Microsecond)
	}
	return d.Round(10 * time.Microsecond)
}

// Check says why c is not a bounded run against an allowed address, or nil.
func (c Config) Check() error {
	if err := checkURL(c.URL); err != nil {
		return err
	}
	switch {
	case c.Conns < 1:
		return fmt.Errorf("load: %d connections, want at least 1", c.Conns)
	case c.Requests < 1:
		return fmt.Errorf("load: a request count of %d, want at least 1: every run is bounded", c.Requests)
	case c.Duration <= 0:
		return fmt.Errorf("load: a time cap of %s, want more than 0: every run is bounded", c.Duration)
	}
	return nil
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("load URL %q: %w", s, err)
	}
	if u.Scheme != "http" {
		return fmt.Errorf("load URL %q: want http://", s)
	}
	if err := AllowedHost(u.Hostname()); err != nil {
		return fmt.Errorf("load URL %q: %w", s, err)
	}
	return nil
}

// AllowedHost is nil when host is an IP literal on loopback or in a private
// range (where docker puts its bridge networks), else an error saying so.
func AllowedHost(host string) error {
	ip := net.ParseIP(host)
	if ip == nil {
		return fmt.Errorf("host %q is not an IP address: load goes only to loopback or a container's bridge address", host)
	}
	if !ip.IsLoopback() && !ip.IsPrivate() {
		return fmt.Errorf("host %s is neither loopback nor private: load goes only to loopback or a container's bridge address", host)
	}
	return nil
}

// Run sends the load c describes and returns what it saw. It ends when
// c.Requests were sent, c.Duration passed, c.Stop was closed or ctx was
// cancelled; the error is
// for a config that is not allowed or a cancelled ctx, never for failed
// requests, which the result counts.
func Run(ctx context.Context, c Config) (Result, error) {
	if err := c.Check(); err != nil {
		return Result{}, err
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	tr := &http.Transport{
		Proxy:               nil, // never through a proxy from the environment
		MaxIdleConns:        c.Conns,
		MaxIdleConnsPerHost: c.Conns,
		MaxConnsPerHost:     c.Conns,
		DisableCompression:  true,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: timeout}

	runCtx, cancel := context.WithTimeout(ctx, c.Duration)
	defer cancel()
	if c.Stop != nil {
		go func() {
			select {
			case <-c.Stop:
				cancel()
			case <-runCtx.Done():
			}
		}()
	}
	var issued atomic.Int64
	workers := make([]worker, c.Conns)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &workers[i]
			for issued.Add(1) <= int64(c.Requests) && runCtx.Err() == nil {
				w.one(runCtx, client, c)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("load on %s: %w", c.URL, err)
	}
	return merge(workers, elapsed), nil
}

// worker is what one connection's sender saw.
type worker struct {
	res       Result
	latencies []time.Duration
}

func (w *worker) one(ctx context.Context, client *http.Client, c Config) {
	start := time.Now()
	status, body, err := get(ctx, client, c.URL)
	took := time.Since(start)
	switch {
	case err != nil && ctx.Err() != nil:
		return // cut short by the time cap or Stop: not counted
	case err != nil:
		w.res.Errors++
		w.fail(err.Error())
	case status != http.StatusOK:
		w.res.Non200++
		w.fail(fmt.Sprintf("status %d, body %.100q", status, body))
	case c.Body != "" && !bytes.Equal(body, []byte(c.Body)):
		w.res.BadBody++
		w.fail(fmt.Sprintf("body %.100q, want %q", body, c.Body))
	default:
		w.res.OK++
		w.latencies = append(w.latencies, took)
	}
}

func (w *worker) fail(msg string) {
	if w.res.FirstError == "" {
		w.res.FirstError = msg
	}
}

// get GETs url and reads the whole answer, so the connection is reused.
func get(ctx context.Context, client *http.Client, url string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, body, nil
}

// merge adds up the workers' results.
func merge(workers []worker, elapsed time.Duration) Result {
	r := Result{Elapsed: elapsed}
	var all []time.Duration
	for _, w := range workers {
		r.OK += w.res.OK
		r.Errors += w.res.Errors
		r.Non200 += w.res.Non200
		r.BadBody += w.res.BadBody
		if r.FirstError == "" {
			r.FirstError = w.res.FirstError
		}
		all = append(all, w.latencies...)
	}
	slices.Sort(all)
	r.P50, r.P90, r.P99 = Percentile(all, 50), Percentile(all, 90), Percentile(all, 99)
	if len(all) > 0 {
		r.Max = all[len(all)-1]
	}
	return r
}

// Percentile is the p-th percentile (nearest rank) of sorted, or 0 when it
// is empty.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	// Nearest rank: the smallest value with at least p% of values at or below it.
	rank := int(math.Ceil(float64(len(sorted))*p/100)) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

// ErrUnreachable is what Reachable wraps when nothing answers.
var ErrUnreachable = errors.New("unreachable")

// Reachable GETs url until it answers 200 with body (when body is not
// empty), for at most wait: the check that the target is up before load.
func Reachable(ctx context.Context, url, body string, wait time.Duration) error {
	if err := checkURL(url); err != nil {
		return err
	}
	client := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: time.Second}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(wait)
	var last error
	for {
		status, got, err := get(ctx, client, url)
		switch {
		case err != nil:
			last = err
		case status != http.StatusOK:
			last = fmt.Errorf("status %d", status)
		case body != "" && string(got) != body:
			last = fmt.Errorf("body %.100q, want %q", got, body)
		default:
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("GET %s: %w within %s (last: %v)", url, ErrUnreachable, wait, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
