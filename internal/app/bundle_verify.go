package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/incus-fleet/incus-fleet/internal/bundle"
	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

type bundleVerifyParams struct {
	Bundle string `json:"bundle"`
}

// bundleVerify checks a bundle offline: no cluster is contacted.
func bundleVerify(ctx context.Context, e *env, req *protocol.Request) (protocol.Response, error) {
	var p bundleVerifyParams
	if err := protocol.DecodeParams(req, &p); err != nil {
		return protocol.Response{}, err
	}
	path, err := filepath.Abs(p.Bundle)
	if err != nil {
		return protocol.Response{}, protocol.Invalid("params.bundle", "%v", err)
	}
	info, err := bundle.VerifyFile(path, bundle.Limits{})
	if err != nil {
		return protocol.Response{}, err
	}
	resp := protocol.Response{Result: protocol.True(), Changes: map[string]protocol.Change{},
		Comment: fmt.Sprintf("bundle %s verified: sha256 %s, %d files, every digest matches", path, info.SHA256, len(info.Manifest.Files))}
	setBundleFields(&resp, path, info.SHA256, info.Size, info.Manifest)
	return resp, nil
}

// manifestSummary is the manifest as responses show it.
type manifestSummary struct {
	Compose       string                  `json:"compose"`
	ComposeSHA256 string                  `json:"compose_sha256"`
	Images        map[string]bundle.Image `json:"images,omitempty"`
	Files         int                     `json:"files"`
	Bytes         int64                   `json:"bytes"`
	Paths         []string                `json:"paths"`
}

func setBundleFields(resp *protocol.Response, path, digest string, size int64, m *bundle.Manifest) {
	s := manifestSummary{Compose: m.Compose, ComposeSHA256: m.ComposeSHA256, Images: m.Images, Files: len(m.Files), Bytes: m.Total(), Paths: []string{}}
	for _, f := range m.Files {
		s.Paths = append(s.Paths, f.Path)
	}
	resp.Set("bundle", path)
	resp.Set("sha256", digest)
	resp.Set("size", size)
	resp.Set("manifest", s)
}

// existingDigest is the sha256 of the file at path, "" if there is none.
func existingDigest(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return ""
	}
	return hex.EncodeToString(h.Sum(nil))
}
