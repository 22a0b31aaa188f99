package demostack

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"time"
)

// stopGrace is how long a child may take to exit after SIGTERM.
const stopGrace = 5 * time.Second

// Process is a started child in its own process group.
type Process struct {
	Name string
	cmd  *exec.Cmd
	done chan struct{}
	once sync.Once
}

// Start runs cmd in its own process group, copies its output line by line
// to log prefixed with "[name] ", and waits until a line matches ready (or
// the process exits, or timeout passes). It returns ready's submatches.
func Start(name string, cmd *exec.Cmd, ready *regexp.Regexp, timeout time.Duration, log io.Writer) (*Process, []string, error) {
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Process{Name: name, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); pw.Close(); close(p.done) }()

	matched := make(chan []string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintf(log, "[%s] %s\n", name, line)
			if m := ready.FindStringSubmatch(line); m != nil {
				select {
				case matched <- m:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, pr) // a line over 1 MiB: keep draining
	}()
	select {
	case m := <-matched:
		return p, m, nil
	case <-p.done:
		return nil, nil, fmt.Errorf("%s (pid %d) exited before it was ready: %v", name, cmd.Process.Pid, cmd.ProcessState)
	case <-time.After(timeout):
		_ = p.Stop()
		return nil, nil, fmt.Errorf("%s (pid %d) was not ready within %s", name, cmd.Process.Pid, timeout)
	}
}

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Stop ends the process group: SIGTERM, then SIGKILL after a grace period.
// It reports whether the process had to be killed.
func (p *Process) Stop() error {
	var err error
	p.once.Do(func() {
		pgid := p.cmd.Process.Pid
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(stopGrace):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-p.done
			err = fmt.Errorf("%s (pid %d) ignored SIGTERM and was killed", p.Name, pgid)
		}
	})
	return err
}

// ModuleRoot walks up from the working directory to the directory with
// go.mod.
func ModuleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find module root: %w", err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("find module root: no go.mod above " + wd)
		}
	}
}

// Build compiles the package pkg (e.g. "./cmd/stepgate") of the module at
// root into out.
func Build(ctx context.Context, root, pkg, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return nil
}
