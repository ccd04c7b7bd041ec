package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testCompose = "services:\n  web:\n    image: 0123abcd\n    volumes:\n      - ./nginx.conf:/etc/nginx/nginx.conf\n"

// writeProject writes files (slash path → content) into a fresh directory.
func writeProject(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func sampleProject(t testing.TB) string {
	return writeProject(t, map[string]string{
		"compose.yaml":    "services: {web: {image: busybox}}\n", // the input: superseded
		"nginx.conf":      "worker_processes 1;\n",
		"html/index.html": "hello\n",
		".env":            "SECRET=1\n",
		".git/HEAD":       "ref: refs/heads/main\n",
	})
}

func sampleSource(dir string) Source {
	return Source{Dir: dir, Compose: []byte(testCompose), Images: map[string]Image{"web": {Ref: "busybox", Fingerprint: "0123abcd"}},
		Required: []string{"nginx.conf"}, Exclude: []string{"compose.yaml"}}
}

func create(t testing.TB, src Source) ([]byte, *Result) {
	t.Helper()
	var buf bytes.Buffer
	res, err := Create(&buf, src)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return buf.Bytes(), res
}

// rawEntry is one hand-made tar entry, for archives Create would never make.
type rawEntry struct {
	hdr  tar.Header
	body []byte
}

func reg(name, body string) rawEntry {
	return rawEntry{hdr: tar.Header{Typeflag: tar.TypeReg, Name: name, Size: int64(len(body)), Mode: 0o644}, body: []byte(body)}
}

// manifestFor lists entries (regular ones with their real digests) plus a
// compose file, as an honest manifest would.
func manifestFor(entries ...rawEntry) rawEntry {
	m := Manifest{Format: formatName, Version: formatVersion, Compose: ComposeName}
	for _, e := range entries {
		sum := sha256.Sum256(e.body)
		f := File{Path: e.hdr.Name, Size: int64(len(e.body)), Mode: "0644", SHA256: hex.EncodeToString(sum[:])}
		if e.hdr.Name == ComposeName {
			m.ComposeSHA256 = f.SHA256
		}
		m.Files = append(m.Files, f)
	}
	data, _ := m.encode()
	return reg(ManifestName, string(data))
}

// craft builds a gzip'd tar from raw entries, then appends trailing bytes
// to the uncompressed stream (for bomb tests).
func craft(t testing.TB, trailing []byte, entries ...rawEntry) []byte {
	t.Helper()
	var tarBuf bytes.Buffer
	tw := tar.NewWriter(&tarBuf)
	for _, e := range entries {
		h := e.hdr
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatalf("header %s: %v", h.Name, err)
		}
		if len(e.body) > 0 {
			if _, err := tw.Write(e.body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	tarBuf.Write(trailing)
	return gz(t, tarBuf.Bytes())
}

func gz(t testing.TB, data []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// rewrite re-packs a bundle, letting mutate change any entry's content
// (the manifest stays as it was, so the change is a tampering).
func rewrite(t testing.TB, bundle []byte, mutate func(name string, body []byte) []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(bundle))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var entries []rawEntry
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		body = mutate(hdr.Name, body)
		h := *hdr
		h.Size = int64(len(body))
		entries = append(entries, rawEntry{hdr: h, body: body})
	}
	return craft(t, nil, entries...)
}

// wantRefused asserts a *Error naming entry (when given) with every fragment.
func wantRefused(t testing.TB, err error, entry string, fragments ...string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want *bundle.Error", err, err)
	}
	if entry != "" && e.Entry != entry {
		t.Errorf("error names %q, want %q: %v", e.Entry, entry, err)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q lacks %q", err, f)
		}
	}
}

var small = Limits{MaxEntry: 1 << 10, MaxTotal: 4 << 10, MaxFiles: 10}
