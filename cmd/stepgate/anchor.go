package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stepgate/stepgate/admin/trail"
	"github.com/stepgate/stepgate/storage/anchor"
)

// signingKeyFile is where the checkpoint signing key is read (and, on
// first start, generated): audit.checkpoint.key_file, else in the data dir.
func (c Config) signingKeyFile() string {
	if c.Audit.Checkpoint.KeyFile != "" {
		return c.Audit.Checkpoint.KeyFile
	}
	return filepath.Join(c.DataDir, "audit-signing.key")
}

// witnessFile is the append-only checkpoint file: audit.checkpoint.
// witness_file, else beside the data dir (<data_dir>-witness/), so that
// removing or replacing the data dir leaves it alone.
func (c Config) witnessFile() string {
	if c.Audit.Checkpoint.WitnessFile != "" {
		return c.Audit.Checkpoint.WitnessFile
	}
	return filepath.Join(filepath.Clean(c.DataDir)+"-witness", "checkpoints.jsonl")
}

func (c Config) checkpointsOn() bool { return c.Audit.Checkpoint.Interval >= 0 }

// anchorRun is serve's checkpointer with the witness file it owns.
type anchorRun struct {
	cp   *anchor.Checkpointer
	file *anchor.FileWitness
	pub  ed25519.PublicKey
}

// startAnchors opens (or, on first start, generates) the signing key,
// opens the witnesses and starts signing the chain heads. A generated
// key's public half is printed with a warning: a key beside the database
// it protects only guards against someone who can write the database but
// not the data dir.
func (a *app) startAnchors(env func(string) string, stdout io.Writer) error {
	cfg := a.cfg.Audit.Checkpoint
	key, err := a.signingKey(env, stdout)
	if err != nil {
		return err
	}
	fw, err := anchor.NewFileWitness(a.cfg.witnessFile())
	if err != nil {
		return fmt.Errorf("audit checkpoints: %w", err)
	}
	witnesses := []anchor.Witness{fw}
	if cfg.WitnessURL != "" {
		witnesses = append(witnesses, &anchor.HTTPWitness{URL: cfg.WitnessURL, Client: &http.Client{Timeout: 5 * time.Second}})
	}
	if cfg.Log == nil || *cfg.Log {
		witnesses = append(witnesses, anchor.LogWitness{Logger: a.log})
	}
	var resume *anchor.Checkpoint
	cps, torn, err := anchor.ReadFile(a.cfg.witnessFile())
	switch {
	case err == nil:
		resume = anchor.LastBy(cps, a.cfg.chainID())
	case !errors.Is(err, anchor.ErrNoWitness):
		fw.Close()
		return fmt.Errorf("audit checkpoints: %w", err)
	}
	if torn != "" {
		a.log.Warn("audit witness: " + torn)
	}
	cp, err := anchor.New(anchor.Config{Heads: a.store, Key: key, Signer: a.cfg.chainID(), Witnesses: witnesses,
		Interval: cfg.Interval, Resume: resume, Logger: a.log})
	if err != nil {
		fw.Close()
		return err
	}
	// Sign at once, so a restart anchors what the previous run left.
	if _, err := cp.Checkpoint(context.Background()); err != nil {
		a.log.Error("audit checkpoint failed", "err", err)
	}
	cp.Start()
	a.anchors = &anchorRun{cp: cp, file: fw, pub: key.Public().(ed25519.PublicKey)}
	a.log.Info("audit checkpoints on", "witness", a.cfg.witnessFile(), "key_id", anchor.KeyID(a.anchors.pub),
		"interval", cp.Interval().String())
	return nil
}

// signingKey reads STEPGATE_AUDIT_SIGNING_KEY (a PKCS#8 PEM, for secret
// stores that hand keys over in the environment) or the key file,
// generating the file on first start.
func (a *app) signingKey(env func(string) string, stdout io.Writer) (ed25519.PrivateKey, error) {
	if key, ok, err := envSigningKey(env); ok || err != nil {
		return key, err
	}
	path := a.cfg.signingKeyFile()
	key, created, err := anchor.LoadOrCreateKey(path)
	if err != nil {
		return nil, fmt.Errorf("audit checkpoints: %w", err)
	}
	if created {
		fmt.Fprintf(stdout, "stepgate: generated the audit checkpoint signing key %s (key id %s); its public key verifies the trail:\n%s",
			path, anchor.KeyID(key.Public().(ed25519.PublicKey)), anchor.PublicKeyPEM(key.Public().(ed25519.PublicKey)))
		a.log.Warn("the audit signing key was generated beside the database; in production keep it elsewhere "+
			"(audit.checkpoint.key_file on another volume, or STEPGATE_AUDIT_SIGNING_KEY from a secret store) and keep the public key apart",
			"key_file", path)
	}
	return key, nil
}

// envSigningKey reads STEPGATE_AUDIT_SIGNING_KEY (a PKCS#8 PEM); ok is
// false when it is not set.
func envSigningKey(env func(string) string) (key ed25519.PrivateKey, ok bool, err error) {
	pemKey := env("STEPGATE_AUDIT_SIGNING_KEY")
	if pemKey == "" {
		return nil, false, nil
	}
	if key, err = anchor.ParsePrivateKey([]byte(pemKey)); err != nil {
		return nil, true, fmt.Errorf("STEPGATE_AUDIT_SIGNING_KEY: %w", err)
	}
	return key, true, nil
}

// stop makes the last checkpoint and closes the witness file.
func (r *anchorRun) stop(ctx context.Context) error {
	err := r.cp.Stop(ctx)
	return errors.Join(err, r.file.Close())
}

// trailAnchoring is what the admin UI verifies the trail with.
func (r *anchorRun) trailAnchoring(cfg Config) *trail.Anchoring {
	if r == nil {
		return nil
	}
	return &trail.Anchoring{WitnessFiles: []string{cfg.witnessFile()}, PublicKey: r.pub}
}

// verifyPublicKey resolves the key `audit verify` checks signatures with:
// --public-key (a file, or the key itself as PEM or base64), else the
// public half of the configured signing key.
func verifyPublicKey(flagValue string, cfg Config, env func(string) string) (ed25519.PublicKey, error) {
	if flagValue != "" {
		b := []byte(flagValue)
		if !strings.Contains(flagValue, "-----BEGIN") {
			f, err := os.ReadFile(flagValue)
			switch {
			case err == nil:
				b = f
			case !errors.Is(err, fs.ErrNotExist):
				return nil, fmt.Errorf("--public-key: %w", err)
			}
		}
		pub, err := anchor.ParsePublicKey(b)
		if err != nil {
			return nil, fmt.Errorf("--public-key: %w", err)
		}
		return pub, nil
	}
	if key, ok, err := envSigningKey(env); ok || err != nil {
		if err != nil {
			return nil, err
		}
		return key.Public().(ed25519.PublicKey), nil
	}
	key, err := anchor.LoadKey(cfg.signingKeyFile())
	if err != nil {
		return nil, fmt.Errorf("no public key to check the checkpoints with: pass --public-key (%w)", err)
	}
	return key.Public().(ed25519.PublicKey), nil
}

// anchorCollector exports the checkpointer's counters.
type anchorCollector struct{ r *anchorRun }

var (
	checkpointsDesc = prometheus.NewDesc("stepgate_audit_checkpoints_total",
		"Signed audit checkpoints by result: signed (kept by the witness file), failed (not kept), copy_failed (an extra witness refused a copy).",
		[]string{"result"}, nil)
	contradictionsDesc = prometheus.NewDesc("stepgate_audit_chain_contradictions_total",
		"Chains found contradicting their last signed checkpoint, each counted once: kind rewind (went back or vanished: records deleted) or rewrite (a signed record holds another hash). Any is an alarm.",
		[]string{"kind"}, nil)
	lastCheckpointDesc = prometheus.NewDesc("stepgate_audit_last_checkpoint_timestamp_seconds",
		"Unix time of the last signed checkpoint; 0 before the first.", nil, nil)
)

func (c anchorCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- checkpointsDesc
	ch <- contradictionsDesc
	ch <- lastCheckpointDesc
}

func (c anchorCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.r.cp.Stats()
	ch <- prometheus.MustNewConstMetric(checkpointsDesc, prometheus.CounterValue, float64(s.Signed), "signed")
	ch <- prometheus.MustNewConstMetric(checkpointsDesc, prometheus.CounterValue, float64(s.Failed), "failed")
	ch <- prometheus.MustNewConstMetric(checkpointsDesc, prometheus.CounterValue, float64(s.CopyFailed), "copy_failed")
	ch <- prometheus.MustNewConstMetric(contradictionsDesc, prometheus.CounterValue, float64(s.Rewinds), "rewind")
	ch <- prometheus.MustNewConstMetric(contradictionsDesc, prometheus.CounterValue, float64(s.Rewrites), "rewrite")
	last := 0.0
	if !s.Last.IsZero() {
		last = float64(s.Last.UnixNano()) / 1e9
	}
	ch <- prometheus.MustNewConstMetric(lastCheckpointDesc, prometheus.GaugeValue, last)
}
