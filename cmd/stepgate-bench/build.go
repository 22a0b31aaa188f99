package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// binaries are the programs under test, built for this run.
type binaries struct {
	stepgate string
	opa      string
	self     string // this program, re-executed as the no-op server
}

// buildBinaries builds stepgate from the module at root and OPA's server
// from the OPA module that go.mod already requires (offline from the module
// cache when it is warm).
// With profile, stepgate is built with -tags pprof (see cmd/stepgate/pprof.go).
func buildBinaries(ctx context.Context, root, dir string, profile bool) (binaries, error) {
	b := binaries{stepgate: filepath.Join(dir, "stepgate"), opa: filepath.Join(dir, "opa")}
	tags := ""
	if profile {
		tags = "pprof"
	}
	for _, job := range []struct{ out, pkg, tags string }{
		{b.stepgate, "./cmd/stepgate", tags},
		{b.opa, "github.com/open-policy-agent/opa", ""},
	} {
		cmd := exec.CommandContext(ctx, "go", "build", "-tags", job.tags, "-o", job.out, job.pkg)
		cmd.Dir = root
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			return b, fmt.Errorf("go build %s: %w\n%s", job.pkg, err, stderr.String())
		}
	}
	self, err := os.Executable()
	if err != nil {
		return b, fmt.Errorf("find own executable for the no-op server: %w", err)
	}
	b.self = self
	return b, nil
}

// versions are what the report names.
type versions struct {
	Go, OPA, Stepgate, Wrk string
}

func readVersions(ctx context.Context, root string, b binaries) versions {
	v := versions{Go: runtime.Version()}
	v.OPA = firstLine(commandOutput(ctx, root, b.opa, "version"))
	v.Stepgate = firstLine(commandOutput(ctx, root, b.stepgate, "version"))
	if rev := strings.TrimSpace(commandOutput(ctx, root, "git", "describe", "--always", "--dirty")); rev != "" {
		v.Stepgate += " (git " + rev + ")"
	}
	v.Wrk = firstLine(commandOutput(ctx, root, "wrk", "--version"))
	return v
}

func commandOutput(ctx context.Context, dir, name string, args ...string) string {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	out, _ := cmd.CombinedOutput() // wrk --version exits 1 after printing
	return string(out)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(s)
}

// machine describes the host for the report.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		mem = ", " + strings.Join(strings.Fields(firstLine(string(b)))[1:], " ") + " RAM"
	}
	return fmt.Sprintf("%s, %d cores, %s/%s%s", model, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, mem)
}

// loadAverage is the 1, 5 and 15 minute load averages.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
