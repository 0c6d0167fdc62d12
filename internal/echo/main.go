package echo

import (
	"context"
	"log"
	"os"
	"os/signal"
	"syscall"
)

// DefaultAddr is the listen address when ADDR is unset.
const DefaultAddr = ":8080"

// Main is the whole of the echo commands: it serves on $ADDR (default
// DefaultAddr), logs to stderr, stops gracefully on SIGTERM or SIGINT, and
// exits non-zero when it cannot listen.
func Main() {
	addr := os.Getenv("ADDR")
	if addr == "" {
		addr = DefaultAddr
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	err := Run(ctx, addr, log.Default())
	stop()
	if err != nil {
		log.Fatalf("echo server: %v", err)
	}
	log.Print("echo server stopped")
}
