package bundle

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Info is a verified bundle file.
type Info struct {
	Path     string
	SHA256   string // of the file's bytes: the bundle's identity
	Size     int64
	Manifest *Manifest
}

// VerifyFile verifies a bundle on disk (see Verify) and returns its digest.
func VerifyFile(path string, lim Limits) (*Info, error) {
	return readFile(path, lim.orDefault(), nil)
}

// readFile runs read over a file while hashing every byte of it, so the
// digest names exactly the bytes that were verified.
func readFile(path string, lim Limits, consume sink) (*Info, error) {
	f, err := openBundle(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	counted := &countReader{r: io.TeeReader(f, h)}
	m, err := read(counted, lim, consume)
	if err != nil {
		return nil, err
	}
	// gzip reads to EOF to rule out a second stream, but be sure the digest
	// covers the whole file.
	if _, err := io.Copy(io.Discard, counted); err != nil {
		return nil, errorf("", "the bundle cannot be read (%v)", err)
	}
	return &Info{Path: path, SHA256: digestOf(h), Size: counted.n, Manifest: m}, nil
}

func openBundle(path string) (*os.File, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("bundle %s does not exist: %w", path, ErrNotFound)
	}
	if err != nil {
		return nil, errorf("", "bundle %s cannot be opened: %v", path, err)
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, errorf("", "bundle %s is not a regular file", path)
	}
	return f, nil
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
