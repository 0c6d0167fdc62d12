//go:build mage

// Builds two tiny Go apps as single-stage, multi-stage alpine and
// multi-stage scratch images, runs and verifies each, and reports what
// multi-stage builds buy. Progress goes to stderr, the report to stdout.
package main

import (
	"context"

	"github.com/go-multistage/multistage/bench"
	"github.com/go-multistage/multistage/internal/pipeline"
)

// Default target when none is given.
var Default = All

// All builds every variant, runs and verifies each, and prints the report.
func All(ctx context.Context) error {
	return run(ctx, pipeline.All)
}

// Build builds every variant whose inputs changed since its image was built.
func Build(ctx context.Context) error {
	return run(ctx, pipeline.BuildOnly)
}

// Verify builds what changed, then runs and checks every variant's image.
func Verify(ctx context.Context) error {
	return run(ctx, pipeline.VerifyOnly)
}

// Report prints the Markdown size report (REPORT_FORMAT=json for JSON), building what changed first.
func Report(ctx context.Context) error {
	return run(ctx, pipeline.ReportOnly)
}

// Clean removes every image and container the project made, and nothing else.
func Clean(ctx context.Context) error {
	return withOptions(func(opts pipeline.Options) error { return pipeline.Clean(ctx, opts) })
}

// Bench times mage all (after an edit, cold, a first run) against bench/plain.sh, the same builds by hand, checks sizes and throughput, prints PASS or MISS per target and fails on a MISS (it prunes the engine's build cache).
func Bench(ctx context.Context) error {
	return withOptions(func(opts pipeline.Options) error {
		cfg, err := bench.ConfigFromEnv(opts.Env)
		if err != nil {
			return err
		}
		return bench.Run(ctx, opts, cfg)
	})
}

// Soak loads the hardened echo server on scratch (30 s at 64 connections; SOAK_* to change) and fails on any failed request or memory growth.
func Soak(ctx context.Context) error {
	return withOptions(func(opts pipeline.Options) error {
		cfg, err := bench.SoakFromEnv(opts.Env)
		if err != nil {
			return err
		}
		return bench.Soak(ctx, opts, cfg)
	})
}

func run(ctx context.Context, target pipeline.Target) error {
	return withOptions(func(opts pipeline.Options) error {
		_, err := pipeline.Execute(ctx, opts, target)
		return err
	})
}

// withOptions calls f with the options of a run from the repository root.
func withOptions(f func(pipeline.Options) error) error {
	opts, err := pipeline.DefaultOptions()
	if err != nil {
		return err
	}
	return f(opts)
}
