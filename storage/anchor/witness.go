package anchor

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Witness keeps copies of checkpoints outside the database.
type Witness interface {
	// Witness stores c durably, or returns why it could not.
	Witness(ctx context.Context, c Checkpoint) error
	// String names the witness in logs.
	String() string
}

// FileWitness appends each checkpoint as one JSON line to a file, syncing
// it before returning. Each line is written with a single write on a file
// opened O_APPEND, so processes sharing the file never interleave lines.
type FileWitness struct {
	path string
	mu   sync.Mutex
	f    *os.File
}

// NewFileWitness opens (creating, with its directory) the witness file.
func NewFileWitness(path string) (*FileWitness, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("witness directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open witness file: %w", err)
	}
	return &FileWitness{path: path, f: f}, nil
}

// Witness appends c and syncs the file.
func (w *FileWitness) Witness(_ context.Context, c Checkpoint) error {
	line, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode checkpoint: %w", err)
	}
	line = append(line, '\n')
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return fmt.Errorf("witness file %s: closed", w.path)
	}
	if _, err := w.f.Write(line); err != nil {
		return fmt.Errorf("append to witness file %s: %w", w.path, err)
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("sync witness file %s: %w", w.path, err)
	}
	return nil
}

// Close closes the file.
func (w *FileWitness) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}

func (w *FileWitness) String() string { return "file " + w.path }

// HTTPWitness POSTs each checkpoint as JSON to a URL (a SIEM collector, a
// second site). Any 2xx answer counts as kept.
type HTTPWitness struct {
	URL    string
	Client *http.Client
}

// Witness posts c.
func (w *HTTPWitness) Witness(ctx context.Context, c Checkpoint) error {
	body, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode checkpoint: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("witness request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	cl := w.Client
	if cl == nil {
		cl = http.DefaultClient
	}
	resp, err := cl.Do(req)
	if err != nil {
		return fmt.Errorf("post checkpoint to %s: %w", w.URL, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("post checkpoint to %s: HTTP %d", w.URL, resp.StatusCode)
	}
	return nil
}

func (w *HTTPWitness) String() string { return "url " + w.URL }

// LogWitness writes each checkpoint to the structured log (message "audit
// checkpoint", the signed line in attribute "checkpoint"), so that a log
// pipeline keeps a copy.
type LogWitness struct{ Logger *slog.Logger }

// Witness logs c.
func (w LogWitness) Witness(ctx context.Context, c Checkpoint) error {
	line, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode checkpoint: %w", err)
	}
	w.Logger.LogAttrs(ctx, slog.LevelInfo, "audit checkpoint", slog.String("checkpoint", string(line)))
	return nil
}

func (LogWitness) String() string { return "log" }

// Located is a checkpoint with where it was read from.
type Located struct {
	Checkpoint
	Source string
	Line   int
}

// ErrNoWitness means a witness file does not exist.
var ErrNoWitness = errors.New("witness file does not exist")

// ReadFile reads every checkpoint of a witness file. A line that does not
// decode is an error naming it, except an unterminated last line, which a
// crash in the middle of an append leaves behind: it is returned in torn.
func ReadFile(path string) (cps []Located, torn string, err error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, "", fmt.Errorf("%w: %s", ErrNoWitness, path)
	}
	if err != nil {
		return nil, "", fmt.Errorf("open witness file: %w", err)
	}
	defer f.Close()
	cps, torn, err = Read(f, path)
	return cps, torn, err
}

// Read reads witness lines from r (source names r in errors).
func Read(r io.Reader, source string) (cps []Located, torn string, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			if len(bytes.TrimSpace(line)) > 0 {
				torn = fmt.Sprintf("%s:%d: last line is incomplete (%d bytes; an append cut short)", source, n, len(line))
			}
			return cps, torn, nil
		}
		if err != nil {
			return nil, "", fmt.Errorf("read %s: %w", source, err)
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var c Checkpoint
		if err := json.Unmarshal(line, &c); err != nil {
			return nil, "", fmt.Errorf("%s:%d: not a checkpoint: %v", source, n, err)
		}
		cps = append(cps, Located{Checkpoint: c, Source: source, Line: n})
	}
}
