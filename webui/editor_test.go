package webui

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestEditorAssetIsBuilt rebuilds static/editor.js from webui/editor with
// the pinned dependencies and compares it with the committed file, so the
// asset stepgate serves is what the committed sources produce. It needs
// Node and the installed dependencies (cd webui/editor && npm ci) and
// skips without them: stepgate itself never needs Node.
func TestEditorAssetIsBuilt(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
	if _, err := os.Stat(filepath.Join("editor", "node_modules", ".bin", "esbuild")); err != nil {
		t.Skip("the editor's dependencies are not installed (cd webui/editor && npm ci)")
	}
	out := filepath.Join(t.TempDir(), "editor.js")
	cmd := exec.Command("./build.sh")
	cmd.Dir = "editor"
	cmd.Env = append(os.Environ(), "OUT="+out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build.sh: %v\n%s", err, b)
	}
	built, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := staticFS.ReadFile("static/editor.js")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(built, committed) {
		t.Fatalf("static/editor.js (%d bytes) is not what webui/editor/build.sh produces (%d bytes): run the build and commit the result", len(committed), len(built))
	}
}
