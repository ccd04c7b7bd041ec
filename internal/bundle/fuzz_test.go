package bundle

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzVerify feeds arbitrary bytes to the bundle reader. Whatever comes
// in, it must not panic, must fail with a *Error, and anything it accepts
// must respect the limits and extract inside its directory.
// Seeds: testdata/fuzz/FuzzVerify (a valid bundle, truncated, tampered and
// hostile ones).
func FuzzVerify(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Verify(bytes.NewReader(data), small)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is a %T, not a *bundle.Error", err, err)
			}
			return
		}
		if m.Total() > small.MaxTotal || len(m.Files) > small.MaxFiles {
			t.Fatalf("accepted a bundle over the limits: %+v", m)
		}
		for _, file := range m.Files {
			if err := checkName(file.Path); err != nil {
				t.Fatalf("accepted path %q: %v", file.Path, err)
			}
		}
		dir := t.TempDir()
		path := filepath.Join(dir, "b.tar.gz")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		cache := filepath.Join(dir, "cache")
		o, err := Extract(path, cache, small)
		if err != nil {
			t.Fatalf("verified but does not extract: %v", err)
		}
		if filepath.Dir(o.Dir) != cache {
			t.Fatalf("extracted to %s, outside %s", o.Dir, cache)
		}
	})
}
