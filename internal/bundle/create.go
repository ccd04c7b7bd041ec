package bundle

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

// FilesDir holds the project's files inside a bundle, apart from the
// manifest and the pinned compose file, so no project file (say its own
// compose.yaml) can collide with them. It is the project directory when
// the bundle is deployed.
const FilesDir = "files"

// epoch is every entry's modification time: bundles must not depend on
// when a checkout happened.
var epoch = time.Unix(0, 0).UTC()

// Source is what a bundle is made of.
type Source struct {
	Dir      string // project directory, absolute
	Compose  []byte // the pinned compose file
	Images   map[string]Image
	Required []string // project-relative (slash) files the compose file refers to
	Exclude  []string // project-relative files never stored: the input compose files, secrets, the output
	Limits   Limits   // zero value: DefaultLimits
}

// Result describes a bundle just written.
type Result struct {
	Manifest *Manifest
	SHA256   string // of the bundle's bytes
	Size     int64
	Warnings []string
}

// Create writes a bundle of src to w. The same source gives the same bytes:
// entries sorted by path, fixed times, owners and modes (0644, or 0755 for
// executables), and a gzip header without name or time.
func Create(w io.Writer, src Source) (*Result, error) {
	lim := src.Limits.orDefault()
	ig, err := loadIgnore(src.Dir)
	if err != nil {
		return nil, err
	}
	exclude := map[string]bool{}
	for _, e := range src.Exclude {
		exclude[e] = true
	}
	entries, warnings, err := collect(src.Dir, ig, exclude)
	if err != nil {
		return nil, err
	}
	if err := checkRequired(src.Required, entries, ig, exclude); err != nil {
		return nil, err
	}
	m, err := plan(src, entries, lim)
	if err != nil {
		return nil, err
	}
	manifest, err := m.encode()
	if err != nil {
		return nil, err
	}
	res := &Result{Manifest: m, Warnings: warnings}
	sum := sha256.New()
	counted := &countWriter{w: io.MultiWriter(w, sum)}
	if err := write(counted, manifest, src.Compose, entries, m); err != nil {
		return nil, err
	}
	res.SHA256, res.Size = hex.EncodeToString(sum.Sum(nil)), counted.n
	return res, nil
}

// checkRequired makes sure every file the compose file refers to is in the
// bundle, and says why one is not.
func checkRequired(required []string, entries []entry, ig *ignore, exclude map[string]bool) error {
	have := map[string]bool{}
	for _, e := range entries {
		have[e.rel] = true
	}
	for _, r := range required {
		switch by, ignored := ig.excludedBy(r); {
		case have[r]:
		case exclude[r]:
			return errorf(r, "is used by the compose file but may not go into a bundle (a compose file or a secret)")
		case ignored:
			return errorf(r, "is used by the compose file but %s excludes it (rule %q); the bundle could not be deployed without it", IgnoreFile, by)
		default:
			return errorf(r, "is used by the compose file but is not a regular file in the project directory")
		}
	}
	return nil
}

// plan hashes every file (first pass) and builds the manifest, which comes
// first in the archive and so must know every digest before anything is
// written.
func plan(src Source, entries []entry, lim Limits) (*Manifest, error) {
	if len(entries)+1 > lim.MaxFiles {
		return nil, errorf("", "the project has %d files to bundle, over the limit of %d; list what to leave out in %s", len(entries)+1, lim.MaxFiles, IgnoreFile)
	}
	composeSum := sha256.Sum256(src.Compose)
	m := &Manifest{Format: formatName, Version: formatVersion, Compose: ComposeName, ComposeSHA256: hex.EncodeToString(composeSum[:]),
		Images: src.Images, Files: []File{{Path: ComposeName, Size: int64(len(src.Compose)), Mode: "0644", SHA256: hex.EncodeToString(composeSum[:])}}}
	total := int64(len(src.Compose))
	for _, e := range entries {
		size, digest, err := hashFile(e, lim.MaxEntry)
		if err != nil {
			return nil, err
		}
		total += size
		if total > lim.MaxTotal {
			return nil, errorf(e.rel, "brings the bundle over its limit of %d bytes; list large files in %s", lim.MaxTotal, IgnoreFile)
		}
		m.Files = append(m.Files, File{Path: FilesDir + "/" + e.rel, Size: size, Mode: e.mode, SHA256: digest})
	}
	slices.SortFunc(m.Files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return m, nil
}

func hashFile(e entry, maxEntry int64) (int64, string, error) {
	f, err := os.Open(e.abs)
	if err != nil {
		return 0, "", errorf(e.rel, "cannot be read: %v", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(f, maxEntry+1))
	if err != nil {
		return 0, "", errorf(e.rel, "cannot be read: %v", err)
	}
	if n > maxEntry {
		return 0, "", errorf(e.rel, "is larger than the limit of %d bytes per file; list it in %s or put it into the image", maxEntry, IgnoreFile)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// write is the second pass: the archive itself. Each file is hashed again
// as it is copied, so a file changed between the passes fails the bundle
// instead of contradicting its manifest.
func write(w io.Writer, manifest, compose []byte, entries []entry, m *Manifest) error {
	gz, err := gzip.NewWriterLevel(w, gzip.DefaultCompression) // Header zero: no name, mtime 0
	if err != nil {
		return err
	}
	tw := tar.NewWriter(gz)
	if err := writeBytes(tw, ManifestName, manifest); err != nil {
		return err
	}
	want := map[string]File{}
	for _, f := range m.Files {
		want[f.Path] = f
	}
	// Entries in manifest order (compose.yaml sorts before files/).
	for _, f := range m.Files {
		if f.Path == ComposeName {
			if err := writeBytes(tw, ComposeName, compose); err != nil {
				return err
			}
			continue
		}
		i, _ := slices.BinarySearchFunc(entries, strings.TrimPrefix(f.Path, FilesDir+"/"), func(e entry, rel string) int { return strings.Compare(e.rel, rel) })
		if err := writeFile(tw, entries[i], want[f.Path]); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

func header(name string, size int64, mode string) *tar.Header {
	return &tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: modeBits(mode), ModTime: epoch}
}

func writeBytes(tw *tar.Writer, name string, data []byte) error {
	if err := tw.WriteHeader(header(name, int64(len(data)), "0644")); err != nil {
		return err
	}
	_, err := tw.Write(data)
	return err
}

func writeFile(tw *tar.Writer, e entry, f File) error {
	src, err := os.Open(e.abs)
	if err != nil {
		return errorf(e.rel, "cannot be read: %v", err)
	}
	defer src.Close()
	if err := tw.WriteHeader(header(f.Path, f.Size, f.Mode)); err != nil {
		return err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tw, h), io.LimitReader(src, f.Size))
	if err != nil {
		return errorf(e.rel, "cannot be bundled: %v", err)
	}
	if n != f.Size || hex.EncodeToString(h.Sum(nil)) != f.SHA256 || !atEOF(src) {
		return errorf(e.rel, "changed while the bundle was being written; create the bundle again")
	}
	return nil
}

func atEOF(r io.Reader) bool {
	n, _ := r.Read(make([]byte, 1))
	return n == 0
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// digestOf is a small helper shared by verification and extraction.
func digestOf(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }
