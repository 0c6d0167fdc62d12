package echo

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"time"
)

// Limits applied by [NewServer].
const (
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 10 * time.Second
	WriteTimeout      = 10 * time.Second
	IdleTimeout       = 60 * time.Second
	MaxHeaderBytes    = 8 << 10 // 8 KiB
)

// ShutdownTimeout bounds how long [Serve] waits for in-flight requests
// after its context is cancelled before closing their connections.
const ShutdownTimeout = 5 * time.Second

// NewServer returns an [http.Server] for h on addr with the timeouts and
// header limit above.
func NewServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
	}
}

// Run listens on addr and serves [Handler] until ctx is cancelled, then
// shuts down gracefully; see [Serve]. It returns a listen error as is.
func Run(ctx context.Context, addr string, logger *log.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return Serve(ctx, ln, Handler(), logger)
}

// Serve serves h on ln until ctx is cancelled. It then stops accepting
// connections, lets in-flight requests finish for up to [ShutdownTimeout]
// and returns nil on a clean shutdown. Serve closes ln. A nil logger
// discards log output.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, logger *log.Logger) error {
	if logger == nil {
		logger = log.New(io.Discard, "", 0)
	}
	srv := NewServer(ln.Addr().String(), h)
	srv.ErrorLog = logger

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Printf("listening on %s", ln.Addr())

	select {
	case err := <-errc:
		return err // Serve failed on its own; it never returns nil.
	case <-ctx.Done():
	}

	logger.Printf("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		_ = srv.Close() // Timed out: drop the remaining connections.
	}
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}
