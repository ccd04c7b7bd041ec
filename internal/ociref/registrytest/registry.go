// Package registrytest runs a small OCI registry on 127.0.0.1 for tests:
// tags that can be moved, an image index with per-platform manifests and
// config blobs, and the anonymous bearer-token flow Docker Hub uses.
package registrytest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
)

// Registry is a running test registry. Only its own TLS client (Client)
// trusts it.
type Registry struct {
	*httptest.Server
	mu    sync.Mutex
	blobs map[string][]byte            // digest → content (manifests and configs)
	types map[string]string            // digest → media type
	tags  map[string]map[string]string // repository → tag → digest
	// Requests lists "METHOD path" of every registry request (not token ones).
	Requests []string
	// NoDigestHeader makes manifests come without Docker-Content-Digest, as
	// some mirrors serve them.
	NoDigestHeader bool
	token          string
}

// New starts a registry that demands a bearer token got anonymously from
// its own /token realm.
func New() *Registry {
	r := &Registry{blobs: map[string][]byte{}, types: map[string]string{}, tags: map[string]map[string]string{}, token: "anon-token"}
	r.Server = httptest.NewTLSServer(http.HandlerFunc(r.serve))
	return r
}

// Host is host:port, as an image reference names the registry.
func (r *Registry) Host() string { return strings.TrimPrefix(r.URL, "https://") }

func (r *Registry) put(mediaType string, content []byte) string {
	sum := sha256.Sum256(content)
	d := "sha256:" + hex.EncodeToString(sum[:])
	r.blobs[d], r.types[d] = content, mediaType
	return d
}

// Push stores an image for linux/amd64 and linux/arm64 (an OCI index with a
// manifest and config each) whose ENTRYPOINT is entrypoint (nil: none) and
// points repository:tag at the index. It returns the index digest.
func (r *Registry) Push(repository, tag string, entrypoint []string) string {
	return r.PushConfig(repository, tag, map[string]any{"Entrypoint": entrypoint})
}

// PushConfig is Push with the image config's "config" object given whole
// (Entrypoint, Healthcheck, ...); Cmd is set per platform.
func (r *Registry) PushConfig(repository, tag string, config map[string]any) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	type desc struct {
		MediaType string            `json:"mediaType"`
		Digest    string            `json:"digest"`
		Size      int               `json:"size"`
		Platform  map[string]string `json:"platform,omitempty"`
	}
	var entries []desc
	for _, arch := range []string{"amd64", "arm64"} {
		c := map[string]any{"Cmd": []string{"serve", arch}}
		for k, v := range config {
			c[k] = v
		}
		cfg, _ := json.Marshal(map[string]any{"architecture": arch, "os": "linux", "config": c})
		cd := r.put("application/vnd.oci.image.config.v1+json", cfg)
		m, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
			"config": desc{MediaType: "application/vnd.oci.image.config.v1+json", Digest: cd, Size: len(cfg)}})
		md := r.put("application/vnd.oci.image.manifest.v1+json", m)
		entries = append(entries, desc{MediaType: "application/vnd.oci.image.manifest.v1+json", Digest: md, Size: len(m),
			Platform: map[string]string{"architecture": arch, "os": "linux"}})
	}
	idx, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": entries})
	d := r.put("application/vnd.oci.image.index.v1+json", idx)
	if r.tags[repository] == nil {
		r.tags[repository] = map[string]string{}
	}
	r.tags[repository][tag] = d
	return d
}

func (r *Registry) serve(w http.ResponseWriter, req *http.Request) {
	if req.URL.Path == "/token" {
		if req.URL.Query().Get("service") != "test-registry" || !strings.HasPrefix(req.URL.Query().Get("scope"), "repository:") {
			http.Error(w, "bad token request", http.StatusBadRequest)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"token": r.token})
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Requests = append(r.Requests, req.Method+" "+req.URL.Path)
	rest, ok := strings.CutPrefix(req.URL.Path, "/v2/")
	if !ok {
		http.NotFound(w, req)
		return
	}
	var repo, kind, ref string
	for _, k := range []string{"/manifests/", "/blobs/"} {
		if i := strings.LastIndex(rest, k); i > 0 {
			repo, kind, ref = rest[:i], strings.Trim(k, "/"), rest[i+len(k):]
		}
	}
	if req.Header.Get("Authorization") != "Bearer "+r.token {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="%s/token",service="test-registry",scope="repository:%s:pull"`, r.URL, repo))
		http.Error(w, `{"errors":[{"code":"UNAUTHORIZED"}]}`, http.StatusUnauthorized)
		return
	}
	if d, ok := r.tags[repo][ref]; ok && kind == "manifests" {
		ref = d
	}
	content, ok := r.blobs[ref]
	if !ok || kind == "" {
		http.Error(w, `{"errors":[{"code":"MANIFEST_UNKNOWN"}]}`, http.StatusNotFound)
		return
	}
	if kind == "manifests" && !strings.Contains(req.Header.Get("Accept"), r.types[ref]) {
		http.Error(w, "not acceptable", http.StatusNotAcceptable)
		return
	}
	w.Header().Set("Content-Type", r.types[ref])
	if !r.NoDigestHeader {
		w.Header().Set("Docker-Content-Digest", ref)
	}
	if req.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(content)
}
