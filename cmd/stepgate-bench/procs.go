package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of utime/stime in /proc/<pid>/stat; it
// is 100 on every Linux architecture Go supports.
const clockTicks = 100

// process is one running target.
type process struct {
	name string
	cmd  *exec.Cmd
	addr string
	log  *os.File
	done chan struct{} // closed when the process has exited
	// pprof is where a stepgate built with -tags pprof serves its
	// profiles (--profile), else empty.
	pprof string
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("pick a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startProcess runs bin with args and env, logs to dir/name.log, and waits
// until GET readyPath on addr answers 200.
func startProcess(ctx context.Context, name, dir, addr, readyPath, bin string, args, env []string) (*process, error) {
	logf, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, addr: addr, log: logf, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if ok := probe("http://" + addr + readyPath); ok {
			return p, nil
		}
		select {
		case <-p.done:
			logf.Close()
			return nil, fmt.Errorf("%s exited before it was ready (%v); see %s", name, cmd.ProcessState, logf.Name())
		case <-ctx.Done():
			p.kill()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.kill()
			return nil, fmt.Errorf("%s not ready after 60s; see %s", name, logf.Name())
		}
	}
}

func probe(url string) bool {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// stop asks the process to terminate and waits for it (stepgate drains its
// audit queue on SIGTERM); after 30 s it is killed.
func (p *process) stop() error {
	defer p.log.Close()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return nil // already gone
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(30 * time.Second):
		p.kill()
		<-p.done
		return fmt.Errorf("%s did not stop within 30s; killed", p.name)
	}
}

func (p *process) kill() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
}

// usage is a process's cumulative CPU time and peak resident set size.
type usage struct {
	cpu     time.Duration
	peakRSS int64 // bytes (VmHWM)
}

func (p *process) usage() (usage, error) {
	pid := p.cmd.Process.Pid
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return usage{}, fmt.Errorf("read %s stat: %w", p.name, err)
	}
	// The command name (field 2) may contain spaces; fields after ")" are fixed.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return usage{}, errors.New("malformed /proc stat")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return usage{}, errors.New("short /proc stat")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64) // field 14 overall
	st, err2 := strconv.ParseInt(f[12], 10, 64) // field 15 overall
	if err := errors.Join(err1, err2); err != nil {
		return usage{}, fmt.Errorf("parse /proc stat: %w", err)
	}
	u := usage{cpu: time.Duration(ut+st) * time.Second / clockTicks}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return usage{}, fmt.Errorf("read %s status: %w", p.name, err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return usage{}, fmt.Errorf("parse VmHWM: %w", err)
			}
			u.peakRSS = kb * 1024
		}
	}
	return u, nil
}

// auditDeniedMetrics are stepgate's counters of audit records the writer
// would not take: each is a decision answered deny (audit_unavailable)
// although the policy may have allowed it.
var auditDeniedMetrics = []string{"stepgate_audit_refused_total", "stepgate_audit_queue_full_total", "stepgate_audit_sync_failed_total"}

// auditDenied reads the sum of auditDeniedMetrics from a stepgate
// process's /metrics; 0 for other targets. The load scripts do not look
// into every answer (that would cost wrk CPU on the shared cores), so
// this is how a run learns that decisions failed closed.
func (p *process) auditDenied() (int64, error) {
	if !strings.HasPrefix(p.name, "stepgate") {
		return 0, nil
	}
	resp, err := http.Get("http://" + p.addr + "/metrics")
	if err != nil {
		return 0, fmt.Errorf("%s metrics: %w", p.name, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s metrics: status %d: %v", p.name, resp.StatusCode, err)
	}
	return sumCounters(string(body), auditDeniedMetrics), nil
}

// sumCounters adds up the samples of the named metrics in a Prometheus
// text exposition.
func sumCounters(text string, names []string) int64 {
	var n float64
	for _, line := range strings.Split(text, "\n") {
		name, value, ok := strings.Cut(line, " ")
		if !ok || !slices.Contains(names, name) {
			continue
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(value), 64); err == nil {
			n += v
		}
	}
	return int64(n)
}
