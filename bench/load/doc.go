// Package load is a small, bounded HTTP load generator: a fixed number of
// keep-alive connections send GETs until a fixed request count is reached
// or a time cap runs out, whichever comes first, and the result counts
// transport errors, non-200 answers and wrong bodies, with the throughput
// and latency percentiles of the good answers.
//
// Load goes only to loopback or private addresses (a container's bridge
// address is one): Run refuses any other host, so a typo cannot aim it at
// somebody else's server.
package load
