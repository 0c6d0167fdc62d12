// Command echo_app_multistage is the echo HTTP server ("GET /{noun}" answers
// "I love {noun}!") as built by the multi-stage container build.
//
// It is identical to echo_app: the two folders exist because the original
// comparison built two identical apps, one per build style. The code lives
// in internal/echo; this file only wires it up.
//
// The server listens on $ADDR (default ":8080"), logs to stderr, stops
// gracefully on SIGTERM or SIGINT and exits non-zero if it cannot listen.
package main

import (
	"context"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/go-multistage/multistage/internal/echo"
)

// defaultAddr is the listen address used when ADDR is unset.
const defaultAddr = ":8080"

func main() {
	addr := os.Getenv("ADDR")
	if addr == "" {
		addr = defaultAddr
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	err := echo.Run(ctx, addr, log.Default())
	stop()
	if err != nil {
		log.Fatalf("echo server: %v", err)
	}
	log.Print("echo server stopped")
}
