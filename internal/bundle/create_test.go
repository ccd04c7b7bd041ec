package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCreateIsDeterministic(t *testing.T) {
	dir := sampleProject(t)
	first, res := create(t, sampleSource(dir))
	second, _ := create(t, sampleSource(dir))
	if !bytes.Equal(first, second) {
		t.Fatal("two creations from the same project differ")
	}
	// Another checkout: other directory, other times, other umask bits.
	other := sampleProject(t)
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(filepath.Join(other, "nginx.conf"), later, later); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(other, "nginx.conf"), 0o600); err != nil {
		t.Fatal(err)
	}
	third, res3 := create(t, sampleSource(other))
	if !bytes.Equal(first, third) || res.SHA256 != res3.SHA256 {
		t.Fatal("the same project in another directory, touched later, bundles differently")
	}
	if res.Size != int64(len(first)) || len(res.SHA256) != 64 {
		t.Errorf("result %+v for %d bytes", res, len(first))
	}
}

func TestCreateLayout(t *testing.T) {
	dir := sampleProject(t)
	if err := os.WriteFile(filepath.Join(dir, "run.sh"), []byte("#!/bin/sh\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	data, res := create(t, sampleSource(dir))
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if zr.Name != "" || !zr.ModTime.IsZero() {
		t.Errorf("gzip header carries name %q / time %v", zr.Name, zr.ModTime)
	}
	tr := tar.NewReader(zr)
	var names []string
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, hdr.Name)
		if hdr.Uid != 0 || hdr.Gid != 0 || hdr.Uname != "" || hdr.Gname != "" || hdr.ModTime.Unix() != 0 {
			t.Errorf("%s: owner %d/%d %q/%q, mtime %v", hdr.Name, hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname, hdr.ModTime)
		}
		wantMode := int64(0o644)
		if hdr.Name == "files/run.sh" {
			wantMode = 0o755
		}
		if hdr.Mode != wantMode {
			t.Errorf("%s: mode %o, want %o", hdr.Name, hdr.Mode, wantMode)
		}
	}
	// Manifest first, then sorted; the input compose file, .env and .git stay out.
	want := []string{ManifestName, ComposeName, "files/html/index.html", "files/nginx.conf", "files/run.sh"}
	if !slices.Equal(names, want) {
		t.Errorf("entries %v, want %v", names, want)
	}
	if m := res.Manifest; m.Compose != ComposeName || len(m.Files) != 4 || m.Images["web"].Fingerprint != "0123abcd" {
		t.Errorf("manifest %+v", m)
	}
	if _, err := Verify(bytes.NewReader(data), Limits{}); err != nil {
		t.Errorf("a fresh bundle does not verify: %v", err)
	}
}

func TestCreateHonoursIgnoreFile(t *testing.T) {
	dir := sampleProject(t)
	for name, content := range map[string]string{
		IgnoreFile: "# build output\n*.log\n/html/\n!keep.log\ndocs/**/*.md\n",
		"a.log":    "x", "sub/b.log": "x", "keep.log": "x",
		"docs/x/guide.md": "x", "docs/readme.txt": "x",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, res := create(t, sampleSource(dir))
	var got []string
	for _, f := range res.Manifest.Files {
		got = append(got, f.Path)
	}
	want := []string{ComposeName, "files/" + IgnoreFile, "files/docs/readme.txt", "files/keep.log", "files/nginx.conf"}
	if !slices.Equal(got, want) {
		t.Errorf("files %v, want %v", got, want)
	}
}

func TestCreateRefuses(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "host.conf"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		prepare func(dir string, src *Source)
		entry   string
		want    string
	}{
		{"required file ignored", func(dir string, src *Source) {
			os.WriteFile(filepath.Join(dir, IgnoreFile), []byte("*.conf\n"), 0o644)
		}, "nginx.conf", `rule "*.conf"`},
		{"required file in an ignored directory", func(dir string, src *Source) {
			os.WriteFile(filepath.Join(dir, IgnoreFile), []byte("html/\n"), 0o644)
			src.Required = append(src.Required, "html/index.html")
		}, "html/index.html", `rule "html/"`},
		{"required file missing", func(dir string, src *Source) { src.Required = append(src.Required, "nope.conf") }, "nope.conf", "not a regular file"},
		{"required file is a secret", func(dir string, src *Source) { src.Exclude = append(src.Exclude, "nginx.conf") }, "nginx.conf", "may not go into a bundle"},
		{"symlink pointing outside", func(dir string, src *Source) {
			os.Symlink(filepath.Join(outside, "host.conf"), filepath.Join(dir, "host.conf"))
		}, "host.conf", "outside the project directory"},
		{"file over the entry limit", func(dir string, src *Source) {
			os.WriteFile(filepath.Join(dir, "big.bin"), make([]byte, 2<<10), 0o644)
			src.Limits = small
		}, "big.bin", "larger than the limit"},
		{"too many files", func(dir string, src *Source) {
			for i := range 12 {
				os.WriteFile(filepath.Join(dir, string(rune('a'+i))), nil, 0o644)
			}
			src.Limits = small
		}, "", "over the limit of 10"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := sampleProject(t)
			src := sampleSource(dir)
			c.prepare(dir, &src)
			_, err := Create(io.Discard, src)
			wantRefused(t, err, c.entry, c.want)
		})
	}
}

func TestCreateStoresInsideSymlinksAsFiles(t *testing.T) {
	dir := sampleProject(t)
	if err := os.Symlink("nginx.conf", filepath.Join(dir, "alias.conf")); err != nil {
		t.Fatal(err)
	}
	data, res := create(t, sampleSource(dir))
	var alias, orig string
	for _, f := range res.Manifest.Files {
		switch f.Path {
		case "files/alias.conf":
			alias = f.SHA256
		case "files/nginx.conf":
			orig = f.SHA256
		}
	}
	if alias == "" || alias != orig {
		t.Errorf("alias.conf stored as %q, nginx.conf as %q", alias, orig)
	}
	if _, err := Verify(bytes.NewReader(data), Limits{}); err != nil {
		t.Error(err)
	}
}

// TestCreateLongPaths: names past tar's 100-byte field (PAX or USTAR
// prefix) round-trip and stay deterministic.
func TestCreateLongPaths(t *testing.T) {
	long := strings.Repeat("d", 90) + "/" + strings.Repeat("e", 90) + "/" + strings.Repeat("f", 120) + ".conf"
	files := map[string]string{"nginx.conf": "x", long: "deep"}
	a, res := create(t, sampleSource(writeProject(t, files)))
	b, _ := create(t, sampleSource(writeProject(t, files)))
	if !bytes.Equal(a, b) {
		t.Fatal("long paths bundle differently across creations")
	}
	if _, err := Verify(bytes.NewReader(a), Limits{}); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range res.Manifest.Files {
		found = found || f.Path == "files/"+long
	}
	if !found {
		t.Errorf("long path missing from %v", res.Manifest.Files)
	}
}
