package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// profileRun is a CPU profile being taken while a workload runs.
type profileRun struct {
	file string
	done chan error
}

// startProfile asks a stepgate built for --profile for a CPU profile over
// the load's duration (less a second at either end, so that start-up and
// shutdown stay out of it). It returns nil when p serves no profiles.
func (b *bench) startProfile(ctx context.Context, workload string, p *process, d time.Duration) *profileRun {
	if p.pprof == "" {
		return nil
	}
	secs := max(int(d.Seconds())-2, 1)
	pr := &profileRun{file: filepath.Join(b.dir, "profiles", p.name+"-"+workload+".pprof"), done: make(chan error, 1)}
	go func() {
		pr.done <- fetchProfile(ctx, "http://"+p.pprof+fmt.Sprintf("/debug/pprof/profile?seconds=%d", secs), pr.file)
	}()
	return pr
}

// wait returns the profile's file once it is written ("" without a profile).
func (pr *profileRun) wait() (string, error) {
	if pr == nil {
		return "", nil
	}
	return pr.file, <-pr.done
}

func fetchProfile(ctx context.Context, url, file string) error {
	time.Sleep(time.Second)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
