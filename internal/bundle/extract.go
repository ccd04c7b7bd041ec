package bundle

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
)

// Opened is a verified bundle extracted into its content-addressed place.
type Opened struct {
	Info
	Dir string // <cache>/<sha256>: holds compose.yaml and files/
}

// ComposeFile is the pinned compose file's path on disk.
func (o *Opened) ComposeFile() string {
	return filepath.Join(o.Dir, filepath.FromSlash(o.Manifest.Compose))
}

// ProjectDir is the directory the compose file's relative paths refer to.
func (o *Opened) ProjectDir() string { return filepath.Join(o.Dir, FilesDir) }

// Extract verifies the bundle at path and extracts it to <cache>/<sha256>.
// It extracts into a fresh staging directory inside cache and renames that
// into place only after every digest checked out, so the final directory
// is either complete and verified or absent. An existing directory for the
// same digest is reused after its files are checked against the manifest.
func Extract(bundlePath, cache string, lim Limits) (*Opened, error) {
	lim = lim.orDefault()
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return nil, errorf("", "bundle cache %s cannot be created: %v", cache, err)
	}
	staging, err := os.MkdirTemp(cache, ".extract-")
	if err != nil {
		return nil, errorf("", "bundle cache %s is not writable: %v", cache, err)
	}
	defer os.RemoveAll(staging) // a no-op once renamed
	root, err := os.OpenRoot(staging)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	info, err := readFile(bundlePath, lim, func(f File, content io.Reader) error { return writeEntry(root, f, content) })
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(staging, 0o755); err != nil { // MkdirTemp made it 0700
		return nil, err
	}
	final := filepath.Join(cache, info.SHA256)
	switch err := checkDir(final, info.Manifest); {
	case err == nil:
		return &Opened{Info: *info, Dir: final}, nil
	case !errors.Is(err, fs.ErrNotExist):
		// Damaged since it was extracted: move it aside in one step (a
		// concurrent deploy never sees a half-removed directory), then drop it.
		aside := staging + ".stale"
		if os.Rename(final, aside) == nil {
			os.RemoveAll(aside)
		}
	}
	// A concurrent extraction of the same bundle may win the rename; its
	// result is as good as ours.
	if err := os.Rename(staging, final); err != nil && checkDir(final, info.Manifest) != nil {
		return nil, errorf("", "bundle cannot be moved into %s: %v", final, err)
	}
	return &Opened{Info: *info, Dir: final}, nil
}

// writeEntry writes one file below root; os.Root refuses any path that
// would leave it, on top of checkName's rules.
func writeEntry(root *os.Root, f File, content io.Reader) error {
	if dir := path.Dir(f.Path); dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return errorf(f.Path, "cannot be extracted: %v", err)
		}
	}
	out, err := root.OpenFile(f.Path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fs.FileMode(modeBits(f.Mode)))
	if err != nil {
		return errorf(f.Path, "cannot be extracted: %v", err)
	}
	if _, err := io.Copy(out, content); err != nil {
		out.Close()
		return err // a read error is reported by read, naming the entry
	}
	if err := out.Close(); err != nil {
		return errorf(f.Path, "cannot be extracted: %v", err)
	}
	// The umask may have cut the mode; the manifest decides it.
	return root.Chmod(f.Path, fs.FileMode(modeBits(f.Mode)))
}

// checkDir confirms an extracted directory still matches the manifest.
func checkDir(dir string, m *Manifest) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	for _, f := range m.Files {
		if err := checkFile(root, f); err != nil {
			return err
		}
	}
	return nil
}

func checkFile(root *os.Root, f File) error {
	in, err := root.Open(f.Path)
	if err != nil { // %v, not %w: a missing file is damage, not an absent directory
		return fmt.Errorf("%s: %v", f.Path, err)
	}
	defer in.Close()
	h := sha256.New()
	if n, err := io.Copy(h, io.LimitReader(in, f.Size+1)); err != nil || n != f.Size || digestOf(h) != f.SHA256 {
		return errors.New(f.Path + " differs from the manifest")
	}
	return nil
}

// CacheDir is where bundles are extracted: $XDG_CACHE_HOME/incus-fleet/
// bundles when set, /var/cache/incus-fleet/bundles for root, else the
// user's cache directory.
func CacheDir() (string, error) {
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "incus-fleet", "bundles"), nil
	}
	if os.Geteuid() == 0 {
		return "/var/cache/incus-fleet/bundles", nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", errorf("", "no cache directory for bundles (%v); set XDG_CACHE_HOME", err)
	}
	return filepath.Join(d, "incus-fleet", "bundles"), nil
}
