package bundle

import (
	"bytes"
	"encoding/json"
	"path"
	"strings"
)

// Names fixed by the format.
const (
	ManifestName  = "manifest.json"
	ComposeName   = "compose.yaml"
	formatName    = "incus-fleet-bundle"
	formatVersion = 1
)

// Manifest describes a bundle's content; it is the first tar entry.
type Manifest struct {
	Format        string           `json:"format"`
	Version       int              `json:"version"`
	Compose       string           `json:"compose"`        // path of the pinned compose file
	ComposeSHA256 string           `json:"compose_sha256"` // its digest (also listed in Files)
	Images        map[string]Image `json:"images,omitempty"`
	Files         []File           `json:"files"` // every entry but the manifest, sorted by path
}

// Image is one service's image: the reference as written and the
// fingerprint it was pinned to.
type Image struct {
	Ref         string `json:"ref"`
	Fingerprint string `json:"fingerprint"`
}

// File is one stored file.
type File struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	Mode   string `json:"mode"` // "0644" or "0755"
	SHA256 string `json:"sha256"`
}

// Total is the uncompressed size of all files.
func (m *Manifest) Total() int64 {
	var n int64
	for _, f := range m.Files {
		n += f.Size
	}
	return n
}

func (m *Manifest) encode() ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	return append(b, '\n'), err
}

// decodeManifest parses and checks a manifest against the format and the
// limits; nothing in it is trusted before this returns.
func decodeManifest(data []byte, lim Limits) (*Manifest, error) {
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, errorf(ManifestName, "is not a valid manifest: %v", err)
	}
	if m.Format != formatName || m.Version != formatVersion {
		return nil, errorf(ManifestName, "format %q version %d is not supported (want %s version %d)", m.Format, m.Version, formatName, formatVersion)
	}
	if len(m.Files) > lim.MaxFiles {
		return nil, errorf(ManifestName, "lists %d files, over the limit of %d", len(m.Files), lim.MaxFiles)
	}
	var total int64
	composeOK := false
	for i, f := range m.Files {
		if err := checkName(f.Path); err != nil {
			return nil, errorf(ManifestName, "lists %q: %v", f.Path, err)
		}
		if f.Path == ManifestName {
			return nil, errorf(ManifestName, "lists itself")
		}
		if i > 0 && f.Path <= m.Files[i-1].Path {
			return nil, errorf(ManifestName, "files are not sorted and unique at %q", f.Path)
		}
		if f.Size < 0 || f.Size > lim.MaxEntry {
			return nil, errorf(f.Path, "size %d is over the limit of %d bytes per file", f.Size, lim.MaxEntry)
		}
		if f.Mode != "0644" && f.Mode != "0755" {
			return nil, errorf(f.Path, "mode %q is not allowed (only 0644 and 0755)", f.Mode)
		}
		if !isDigest(f.SHA256) {
			return nil, errorf(f.Path, "sha256 %q is not 64 lower-case hex digits", f.SHA256)
		}
		total += f.Size
		if total > lim.MaxTotal {
			return nil, errorf(ManifestName, "files add up to more than the limit of %d bytes", lim.MaxTotal)
		}
		composeOK = composeOK || (f.Path == m.Compose && f.SHA256 == m.ComposeSHA256)
	}
	// "a" and "a/b" cannot both be files: extraction would fail half-way.
	seen := make(map[string]bool, len(m.Files))
	for _, f := range m.Files {
		seen[f.Path] = true
	}
	for _, f := range m.Files {
		for dir := path.Dir(f.Path); dir != "."; dir = path.Dir(dir) {
			if seen[dir] {
				return nil, errorf(ManifestName, "%q is both a file and a directory", dir)
			}
		}
	}
	if !composeOK {
		return nil, errorf(ManifestName, "the compose file %q with sha256 %s is not among the files", m.Compose, m.ComposeSHA256)
	}
	return &m, nil
}

// checkName accepts only clean, relative, slash-separated paths: nothing
// absolute, no "..", no "." or empty elements, no backslashes or NULs, so
// no entry can land outside the directory it is extracted into.
func checkName(name string) error {
	switch {
	case name == "":
		return errorf("", "empty path")
	case strings.HasPrefix(name, "/"):
		return errorf("", "absolute path")
	case strings.ContainsAny(name, "\\\x00"):
		return errorf("", "backslash or NUL in path")
	case path.Clean(name) != name || name == ".":
		return errorf("", "path is not clean (./, //, trailing / or ..)")
	}
	for _, el := range strings.Split(name, "/") {
		if el == ".." {
			return errorf("", "path traversal (..)")
		}
	}
	return nil
}

func isDigest(s string) bool {
	return len(s) == 64 && strings.Trim(s, "0123456789abcdef") == ""
}

func modeString(perm uint32) string {
	if perm&0o111 != 0 {
		return "0755"
	}
	return "0644"
}

func modeBits(s string) int64 {
	if s == "0755" {
		return 0o755
	}
	return 0o644
}
