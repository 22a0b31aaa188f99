package policy

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// Bundle size limits protect the engine and the store from a runaway upload.
const (
	maxBundleFiles = 1000
	maxBundleBytes = 16 << 20
)

// ErrInvalidBundle is wrapped by every error about a bundle's shape.
var ErrInvalidBundle = errors.New("invalid policy bundle")

// Files is a policy bundle in OPA's bundle layout: slash-separated paths
// relative to the bundle root ("stepgate/policy.rego", "stepgate/data.json",
// ".manifest") mapped to their contents. Data files place their document by
// directory, exactly as `opa build` does.
type Files map[string][]byte

// bundleFile reports whether name belongs in a bundle at all.
func bundleFile(name string) bool {
	base := path.Base(name)
	switch {
	case base == ".manifest":
		return true
	case strings.HasPrefix(base, "."):
		return false
	}
	switch path.Ext(base) {
	case ".rego":
		return true
	case ".json", ".yaml", ".yml":
		return base == "data.json" || base == "data.yaml" || base == "data.yml"
	}
	return false
}

// IsTestModule reports whether name is a Rego test module, which is kept in a
// revision (so its tests travel with it) but never compiled for decisions.
func IsTestModule(name string) bool { return strings.HasSuffix(name, "_test.rego") }

// Validate checks paths and sizes.
func (f Files) Validate() error {
	if len(f) == 0 {
		return fmt.Errorf("%w: no files", ErrInvalidBundle)
	}
	if len(f) > maxBundleFiles {
		return fmt.Errorf("%w: %d files, at most %d", ErrInvalidBundle, len(f), maxBundleFiles)
	}
	total, rego := 0, 0
	for name, body := range f {
		if name == "" || strings.HasPrefix(name, "/") || path.Clean(name) != name || strings.HasPrefix(name, "../") || name == ".." {
			return fmt.Errorf("%w: bad path %q", ErrInvalidBundle, name)
		}
		if !bundleFile(name) {
			return fmt.Errorf("%w: %q is not a .rego module, data.json/data.yaml or .manifest", ErrInvalidBundle, name)
		}
		if strings.HasSuffix(name, ".rego") && !IsTestModule(name) {
			rego++
		}
		total += len(body)
	}
	if total > maxBundleBytes {
		return fmt.Errorf("%w: %d bytes, at most %d", ErrInvalidBundle, total, maxBundleBytes)
	}
	if rego == 0 {
		return fmt.Errorf("%w: no Rego module", ErrInvalidBundle)
	}
	return nil
}

// Names returns the file names in sorted order.
func (f Files) Names() []string {
	names := make([]string, 0, len(f))
	for n := range f {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Hash is the content hash of the bundle: SHA-256 over every file's path,
// length and contents in path order, hex encoded. It does not depend on
// archive metadata, so the same policy always has the same hash.
func (f Files) Hash() string {
	h := sha256.New()
	for _, n := range f.Names() {
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(f[n]))
		h.Write(f[n])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// without returns a copy of f without the files for which drop is true.
func (f Files) without(drop func(string) bool) Files {
	out := make(Files, len(f))
	for n, b := range f {
		if !drop(n) {
			out[n] = b
		}
	}
	return out
}

// Tarball encodes f as a deterministic .tar.gz in OPA's bundle layout.
func (f Files) Tarball() ([]byte, error) {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, n := range f.Names() {
		hdr := &tar.Header{Name: "/" + n, Mode: 0o644, Size: int64(len(f[n])), Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("write bundle tarball: %w", err)
		}
		if _, err := tw.Write(f[n]); err != nil {
			return nil, fmt.Errorf("write bundle tarball: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("write bundle tarball: %w", err)
	}
	if err := gz.Close(); err != nil {
		return nil, fmt.Errorf("write bundle tarball: %w", err)
	}
	return buf.Bytes(), nil
}

// ReadTarball decodes a .tar.gz bundle (as written by Tarball or `opa build`).
func ReadTarball(data []byte) (Files, error) {
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: not gzip: %v", ErrInvalidBundle, err)
	}
	tr := tar.NewReader(io.LimitReader(gz, maxBundleBytes+1<<20))
	files := Files{}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: reading tar: %v", ErrInvalidBundle, err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		name := strings.TrimPrefix(path.Clean("/"+hdr.Name), "/")
		if !bundleFile(name) {
			continue
		}
		body, err := io.ReadAll(io.LimitReader(tr, maxBundleBytes+1))
		if err != nil {
			return nil, fmt.Errorf("%w: reading %s: %v", ErrInvalidBundle, name, err)
		}
		files[name] = body
	}
	return files, files.Validate()
}

// ReadFS collects a bundle from a directory tree (os.DirFS, embed.FS),
// keeping only the files a bundle consists of.
func ReadFS(fsys fs.FS) (Files, error) {
	files := Files{}
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name != "." && strings.HasPrefix(d.Name(), ".") {
				return fs.SkipDir
			}
			return nil
		}
		if !bundleFile(name) {
			return nil
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		files[name] = body
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read bundle directory: %w", err)
	}
	return files, files.Validate()
}
