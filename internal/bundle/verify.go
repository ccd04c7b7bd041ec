package bundle

import (
	"archive/tar"
	"compress/flate"
	"compress/gzip"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
)

// sink receives each verified entry's content as it streams by. It must not
// trust the content before read returns: the digest is checked at the end
// of each entry, so a sink writes to a staging place that is discarded on
// error.
type sink func(f File, content io.Reader) error

// Verify reads a whole bundle stream and checks it: the manifest against
// the format and the limits, every entry against the manifest (name, type,
// size, mode, sha256), that nothing is missing or extra, and the gzip
// checksum. It returns the manifest only if everything holds.
func Verify(r io.Reader, lim Limits) (*Manifest, error) {
	return read(r, lim.orDefault(), nil)
}

func read(r io.Reader, lim Limits, consume sink) (*Manifest, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, errorf("", "not a gzip-compressed bundle (%v)", err)
	}
	stream := &boundedReader{r: zr, left: lim.MaxTotal + streamSlack, limit: lim.MaxTotal}
	tr := tar.NewReader(stream)
	m, err := readManifest(tr, lim)
	if err != nil {
		return nil, err
	}
	want := make(map[string]File, len(m.Files))
	for _, f := range m.Files {
		want[f.Path] = f
	}
	seen := map[string]bool{}
	last := ManifestName
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, streamErr("after "+last, err)
		}
		f, err := checkHeader(hdr, want, seen)
		if err != nil {
			return nil, err
		}
		seen[f.Path], last = true, f.Path
		if err := readEntry(tr, f, consume); err != nil {
			return nil, err
		}
	}
	for _, f := range m.Files {
		if !seen[f.Path] {
			return nil, errorf(f.Path, "is listed in the manifest but missing from the bundle (truncated or altered)")
		}
	}
	// The rest of the stream: tar's end-of-archive blocks, then gzip's
	// trailer, whose checksum is only verified at EOF.
	if err := drainZeros(stream); err != nil {
		return nil, streamErr("after "+last, err)
	}
	return m, nil
}

func readManifest(tr *tar.Reader, lim Limits) (*Manifest, error) {
	hdr, err := tr.Next()
	if err == io.EOF {
		return nil, errorf("", "the bundle is empty")
	}
	if err != nil {
		return nil, streamErr(ManifestName, err)
	}
	if hdr.Name != ManifestName || !isRegular(hdr) {
		return nil, errorf(hdr.Name, "is the first entry, but a bundle must start with a regular file %s", ManifestName)
	}
	if hdr.Size > maxManifest {
		return nil, errorf(ManifestName, "is %d bytes, over the limit of %d", hdr.Size, maxManifest)
	}
	data, err := io.ReadAll(tr)
	if err != nil {
		return nil, streamErr(ManifestName, err)
	}
	return decodeManifest(data, lim)
}

// checkHeader vets an entry's header before any of its content is read.
func checkHeader(hdr *tar.Header, want map[string]File, seen map[string]bool) (File, error) {
	name := hdr.Name
	if err := checkName(name); err != nil {
		return File{}, errorf(name, "refused: %s", err.(*Error).Message)
	}
	if !isRegular(hdr) {
		return File{}, errorf(name, "is a %s; bundles hold regular files only (no links, devices or directories)", typeName(hdr.Typeflag))
	}
	f, ok := want[name]
	switch {
	case !ok:
		return File{}, errorf(name, "is not listed in the manifest")
	case seen[name]:
		return File{}, errorf(name, "appears twice in the bundle")
	case hdr.Size != f.Size:
		return File{}, errorf(name, "is %d bytes but the manifest says %d (altered)", hdr.Size, f.Size)
	case hdr.Mode&0o7777 != modeBits(f.Mode):
		return File{}, errorf(name, "has mode %04o but the manifest says %s (altered)", hdr.Mode&0o7777, f.Mode)
	}
	return f, nil
}

// readEntry streams one entry's content through the sink and the digest.
func readEntry(tr *tar.Reader, f File, consume sink) error {
	h := sha256.New()
	body := &entryReader{r: io.TeeReader(tr, h)}
	var err error
	if consume != nil {
		err = consume(f, body)
	}
	if err == nil {
		_, err = io.Copy(io.Discard, body) // whatever the sink left
	}
	if body.err != nil {
		return streamErr(f.Path, body.err)
	}
	if err != nil {
		return err
	}
	if got := digestOf(h); got != f.SHA256 {
		return errorf(f.Path, "sha256 mismatch: the content was modified after the bundle was created (manifest %s, content %s)", f.SHA256, got)
	}
	return nil
}

// streamErr words a failure to read the archive itself.
func streamErr(where string, err error) error {
	var corrupt flate.CorruptInputError
	switch {
	case errors.Is(err, errTooBig):
		return errorf(where, "%v", err)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return errorf(where, "the bundle is truncated (it ends in the middle of this entry)")
	case errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader), errors.As(err, &corrupt):
		return errorf(where, "the bundle is corrupt (%v)", err)
	case errors.Is(err, tar.ErrHeader):
		return errorf(where, "the bundle is corrupt: an invalid tar header follows")
	default:
		return errorf(where, "the bundle cannot be read (%v)", err)
	}
}

// entryReader remembers a read error, so a failing archive is told apart
// from a failing sink (a full disk).
type entryReader struct {
	r   io.Reader
	err error
}

func (e *entryReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}

var errTooBig = errors.New("uncompressed data exceeds the limit")

// boundedReader stops a decompression bomb: it fails once the
// uncompressed stream exceeds the files' limit plus tar's overhead.
type boundedReader struct {
	r     io.Reader
	left  int64
	limit int64
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, fmt.Errorf("%w of %d bytes (a decompression bomb?)", errTooBig, b.limit)
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}

// drainZeros reads to the end, accepting only the zero padding tar ends with.
func drainZeros(r io.Reader) error {
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		for _, c := range buf[:n] {
			if c != 0 {
				return errors.New("unexpected data after the last entry")
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func isRegular(h *tar.Header) bool {
	return h.Typeflag == tar.TypeReg || h.Typeflag == tar.TypeRegA //nolint:staticcheck // old writers use '\x00'
}

func typeName(t byte) string {
	switch t {
	case tar.TypeSymlink:
		return "symlink"
	case tar.TypeLink:
		return "hard link"
	case tar.TypeChar, tar.TypeBlock:
		return "device"
	case tar.TypeDir:
		return "directory"
	case tar.TypeFifo:
		return "fifo"
	default:
		return fmt.Sprintf("special entry (type %q)", t)
	}
}
