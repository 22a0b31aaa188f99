package demostack

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/stepgate/stepgate/policies"
)

// dataFile is the bundle's per-action table.
const dataFile = "stepgate/data.json"

// DefaultWindow is how long one step-up unlocks billing in the shipped
// policy (billing.view max_age).
const DefaultWindow = 15 * time.Minute

// WritePolicyBundle writes stepgate's default policy bundle into dir with
// billing.view's max_age set to window (whole seconds, at least one). The
// Rego modules are the shipped ones; the bundle's unit tests, which pin the
// shipped table, are left out.
func WritePolicyBundle(dir string, window time.Duration) error {
	if window < time.Second {
		return fmt.Errorf("policy bundle: window %s is shorter than one second", window)
	}
	src := policies.Bundle()
	err := fs.WalkDir(src, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || policies.IsTestFile(path) {
			return err
		}
		b, err := fs.ReadFile(src, path)
		if err != nil {
			return err
		}
		if path == dataFile {
			if b, err = withWindow(b, window); err != nil {
				return err
			}
		}
		dst := filepath.Join(dir, filepath.FromSlash(path))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		return fmt.Errorf("policy bundle: %w", err)
	}
	return nil
}

// withWindow sets actions["billing.view"].max_age in the data document.
func withWindow(data []byte, window time.Duration) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("read %s: %w", dataFile, err)
	}
	actions, _ := doc["actions"].(map[string]any)
	view, _ := actions["billing.view"].(map[string]any)
	if view == nil {
		return nil, errors.New(dataFile + " has no billing.view action")
	}
	seconds := int64(window / time.Second)
	view["max_age"] = seconds
	view["description"] = fmt.Sprintf("Billing demo: see invoices after MFA within the last %d seconds.", seconds)
	return json.MarshalIndent(doc, "", "  ")
}
