// Command echo_app is the echo HTTP server ("GET /{noun}" answers
// "I love {noun}!") as the single-stage container build builds it.
//
// echo_app and echo_app_multistage are the same server: the original
// comparison had two identical apps, one per build style, and we keep its
// two folders. The code lives once, in internal/echo.
package main

import "github.com/go-multistage/multistage/internal/echo"

func main() { echo.Main() }
