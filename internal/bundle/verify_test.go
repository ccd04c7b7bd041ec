package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"strings"
	"testing"
)

func TestVerifyAcceptsWhatCreateMakes(t *testing.T) {
	data, res := create(t, sampleSource(sampleProject(t)))
	m, err := Verify(bytes.NewReader(data), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if m.ComposeSHA256 != res.Manifest.ComposeSHA256 || len(m.Files) != len(res.Manifest.Files) {
		t.Errorf("manifest read back %+v, written %+v", m, res.Manifest)
	}
}

// TestVerifyRejectsTampering: one changed byte in one file is found and
// named, whichever file it is.
func TestVerifyRejectsTampering(t *testing.T) {
	data, _ := create(t, sampleSource(sampleProject(t)))
	for _, victim := range []string{"files/nginx.conf", ComposeName, "files/html/index.html"} {
		t.Run(victim, func(t *testing.T) {
			tampered := rewrite(t, data, func(name string, body []byte) []byte {
				if name == victim {
					body = bytes.Clone(body)
					body[0] ^= 0x01
				}
				return body
			})
			_, err := Verify(bytes.NewReader(tampered), Limits{})
			wantRefused(t, err, victim, "sha256 mismatch")
		})
	}
	t.Run("grown file", func(t *testing.T) {
		tampered := rewrite(t, data, func(name string, body []byte) []byte {
			if name == "files/nginx.conf" {
				return append(bytes.Clone(body), '#')
			}
			return body
		})
		_, err := Verify(bytes.NewReader(tampered), Limits{})
		wantRefused(t, err, "files/nginx.conf", "manifest says")
	})
	t.Run("repacked unchanged", func(t *testing.T) {
		// The helper itself must not be what trips verification.
		_, err := Verify(bytes.NewReader(rewrite(t, data, func(_ string, b []byte) []byte { return b })), Limits{})
		if err != nil {
			t.Errorf("an unchanged re-pack is refused: %v", err)
		}
	})
}

func TestVerifyRejectsTruncatedAndCorrupt(t *testing.T) {
	data, _ := create(t, sampleSource(sampleProject(t)))
	for _, n := range []int{0, 5, 10, 30, len(data) / 2, len(data) - 9, len(data) - 1} {
		_, err := Verify(bytes.NewReader(data[:n]), Limits{})
		if err == nil {
			t.Errorf("a bundle cut to %d of %d bytes verified", n, len(data))
			continue
		}
		if !strings.Contains(err.Error(), "truncated") && !strings.Contains(err.Error(), "gzip") && !strings.Contains(err.Error(), "corrupt") {
			t.Errorf("cut to %d: %v", n, err)
		}
	}
	// A truncated tar inside an intact gzip: the cut entry is named.
	raw := craft(t, nil, manifestFor(reg(ComposeName, "services: {}\n"), reg("files/a", strings.Repeat("a", 900))),
		reg(ComposeName, "services: {}\n"), reg("files/a", strings.Repeat("a", 900)))
	plain := gunzip(t, raw)
	cut := gz(t, plain[:len(plain)-1024-400]) // drop tar's end blocks and 400 bytes of files/a
	_, err := Verify(bytes.NewReader(cut), Limits{})
	wantRefused(t, err, "files/a", "truncated")
	// Every flipped byte is caught somewhere: gzip CRC, flate, tar or digest.
	for i := 10; i < len(data)-8; i += 7 {
		bad := bytes.Clone(data)
		bad[i] ^= 0x40
		if _, err := Verify(bytes.NewReader(bad), Limits{}); err == nil {
			t.Fatalf("flipping byte %d went unnoticed", i)
		}
	}
	// Trailing garbage after the gzip stream.
	if _, err := Verify(bytes.NewReader(append(bytes.Clone(data), "junk"...)), Limits{}); err == nil {
		t.Error("trailing garbage accepted")
	}
}

func TestVerifyRejectsHostileArchives(t *testing.T) {
	compose := reg(ComposeName, "services: {}\n")
	withType := func(e rawEntry, typ byte, link string) rawEntry {
		e.hdr.Typeflag, e.hdr.Linkname, e.hdr.Size, e.body = typ, link, 0, nil
		return e
	}
	cases := []struct {
		name    string
		entries []rawEntry
		trail   []byte
		entry   string
		want    string
	}{
		{"no manifest first", []rawEntry{compose}, nil, ComposeName, "must start with"},
		{"path traversal", []rawEntry{manifestFor(compose), compose, reg("../evil", "x")}, nil, "../evil", "refused: path traversal"},
		{"traversal inside", []rawEntry{manifestFor(compose), compose, reg("files/../../evil", "x")}, nil, "files/../../evil", "not clean"},
		{"absolute path", []rawEntry{manifestFor(compose), compose, reg("/etc/passwd", "x")}, nil, "/etc/passwd", "absolute path"},
		{"symlink", []rawEntry{manifestFor(compose), compose, withType(reg("files/l", ""), tar.TypeSymlink, "/etc/passwd")}, nil, "files/l", "is a symlink"},
		{"hard link", []rawEntry{manifestFor(compose), compose, withType(reg("files/h", ""), tar.TypeLink, ComposeName)}, nil, "files/h", "is a hard link"},
		{"device", []rawEntry{manifestFor(compose), compose, withType(reg("files/d", ""), tar.TypeChar, "")}, nil, "files/d", "is a device"},
		{"directory", []rawEntry{manifestFor(compose), compose, withType(reg("files/dir", ""), tar.TypeDir, "")}, nil, "files/dir", "is a directory"},
		{"unlisted entry", []rawEntry{manifestFor(compose), compose, reg("files/extra", "x")}, nil, "files/extra", "not listed"},
		{"duplicate entry", []rawEntry{manifestFor(compose), compose, compose}, nil, ComposeName, "twice"},
		{"missing entry", []rawEntry{manifestFor(compose, reg("files/a", "x")), compose}, nil, "files/a", "missing from the bundle"},
		{"manifest traversal", []rawEntry{manifestFor(compose, reg("../x", "x")), compose}, nil, ManifestName, "path traversal"},
		{"file and directory", []rawEntry{manifestFor(compose, reg("files/a", "x"), reg("files/a/b", "y"))}, nil, ManifestName, "both a file and a directory"},
		{"oversize entry", []rawEntry{manifestFor(compose, reg("files/big", strings.Repeat("x", 2<<10))), compose}, nil, "files/big", "over the limit"},
		{"oversize total", []rawEntry{manifestFor(compose, reg("files/a", strings.Repeat("x", 1000)), reg("files/b", strings.Repeat("x", 1000)),
			reg("files/c", strings.Repeat("x", 1000)), reg("files/d", strings.Repeat("x", 1000)), reg("files/e", strings.Repeat("x", 1000)))}, nil, ManifestName, "add up to more than"},
		{"bomb after the last entry", []rawEntry{manifestFor(compose), compose}, make([]byte, 20<<20), "", "decompression bomb"},
		{"garbage after the last entry", []rawEntry{manifestFor(compose), compose}, append(make([]byte, 1024), "junk"...), "", "unexpected data"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Verify(bytes.NewReader(craft(t, c.trail, c.entries...)), small)
			wantRefused(t, err, "", c.want)
			if c.entry != "" && !strings.Contains(err.Error(), c.entry) {
				t.Errorf("error %q does not name %q", err, c.entry)
			}
		})
	}
}

func TestVerifyRejectsBadManifests(t *testing.T) {
	compose := reg(ComposeName, "services: {}\n")
	m := manifestFor(compose)
	edit := func(from, to string) rawEntry {
		e := m
		e.body = []byte(strings.Replace(string(m.body), from, to, 1))
		e.hdr.Size = int64(len(e.body))
		return e
	}
	cases := []struct{ name, from, to, entry, want string }{
		{"other format", formatName, "tarball", ManifestName, "not supported"},
		{"bad mode", `"0644"`, `"4755"`, ComposeName, "not allowed"},
		{"bad digest", `"sha256": "`, `"sha256": "zz`, ComposeName, "not 64 lower-case hex"},
		{"unknown field", `"format"`, `"extra": 1, "format"`, ManifestName, "unknown field"},
		{"compose not listed", `"compose": "compose.yaml"`, `"compose": "other.yaml"`, ManifestName, "not among the files"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Verify(bytes.NewReader(craft(t, nil, edit(c.from, c.to), compose)), small)
			wantRefused(t, err, c.entry, c.want)
		})
	}
}

func gunzip(t testing.TB, data []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
