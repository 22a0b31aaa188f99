package demostack

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Stepgate is a stepgate binary with the demo's configuration.
type Stepgate struct {
	// Bin is the built cmd/stepgate.
	Bin string
	// Config is written to Dir/stepgate.yaml.
	Config StepgateConfig
	// Dir holds stepgate.yaml and the policy bundle.
	Dir string
	// Log receives the children's output.
	Log io.Writer
}

// Running is a started `stepgate serve`.
type Running struct {
	*Process
	// DecisionURL and AdminURL are the listeners' base URLs.
	DecisionURL, AdminURL string
}

var listening = regexp.MustCompile(`stepgate: (decision API|admin UI) listening on (http://\S+)`)

func (s Stepgate) configFile() string { return filepath.Join(s.Dir, "stepgate.yaml") }

func (s Stepgate) command(ctx context.Context, args ...string) (*exec.Cmd, error) {
	b, err := s.Config.YAML()
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(s.configFile(), b, 0o600); err != nil {
		return nil, fmt.Errorf("write stepgate config: %w", err)
	}
	cmd := exec.CommandContext(ctx, s.Bin, args...)
	cmd.Env = append(os.Environ(), s.Config.Env(s.configFile())...)
	return cmd, nil
}

// PushPolicy stores and activates the demo policy bundle (billing.view
// unlocked for window after a step-up) with `stepgate policy push
// --activate`. Run it before Serve: serve then keeps this revision instead
// of activating the shipped default.
func (s Stepgate) PushPolicy(ctx context.Context, window time.Duration) error {
	bundle := filepath.Join(s.Dir, "policy")
	if err := os.RemoveAll(bundle); err != nil {
		return fmt.Errorf("policy bundle: %w", err)
	}
	if err := WritePolicyBundle(bundle, window); err != nil {
		return err
	}
	msg := fmt.Sprintf("billing demo: billing.view needs MFA within %s", window)
	cmd, err := s.command(ctx, "policy", "push", "--activate", "-m", msg, bundle)
	if err != nil {
		return err
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("stepgate policy push: %w\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fmt.Fprintf(s.Log, "[stepgate] %s\n", line)
	}
	return nil
}

// Serve starts `stepgate serve` and waits until both listeners are up.
func (s Stepgate) Serve(ctx context.Context) (*Running, error) {
	cmd, err := s.command(ctx, "serve")
	if err != nil {
		return nil, err
	}
	cmd.Cancel = func() error { return nil } // Process.Stop ends it, not ctx
	urls := map[string]string{}
	lines := &listenLines{urls: urls, next: s.Log}
	p, _, err := Start("stepgate", cmd, regexp.MustCompile(`stepgate: admin UI listening on`), 60*time.Second, lines)
	if err != nil {
		return nil, err
	}
	r := &Running{Process: p, DecisionURL: lines.get("decision API"), AdminURL: lines.get("admin UI")}
	if r.DecisionURL == "" || r.AdminURL == "" {
		_ = p.Stop()
		return nil, fmt.Errorf("stepgate serve did not print both listener addresses")
	}
	return r, nil
}

// listenLines records the listener URLs stepgate prints and passes every
// line on.
type listenLines struct {
	mu   sync.Mutex
	urls map[string]string
	next io.Writer
}

func (l *listenLines) Write(b []byte) (int, error) {
	l.mu.Lock()
	for _, m := range listening.FindAllSubmatch(b, -1) {
		l.urls[string(m[1])] = string(m[2])
	}
	l.mu.Unlock()
	return l.next.Write(b)
}

func (l *listenLines) get(name string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.urls[name]
}
