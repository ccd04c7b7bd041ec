// Package ociref asks an OCI (Docker) registry what a tag points at: the
// manifest digest a tag resolves to, and the image's ENTRYPOINT from its
// config blob. It speaks the OCI distribution API over HTTP (with the
// anonymous bearer-token flow registries use), never to Incus.
package ociref

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Media types a manifest request accepts: an index (multi-platform) or a
// single manifest, in both the OCI and the Docker spelling.
const (
	mediaOCIIndex      = "application/vnd.oci.image.index.v1+json"
	mediaOCIManifest   = "application/vnd.oci.image.manifest.v1+json"
	mediaDockerList    = "application/vnd.docker.distribution.manifest.list.v2+json"
	mediaDockerV2      = "application/vnd.docker.distribution.manifest.v2+json"
	manifestAcceptList = mediaOCIIndex + ", " + mediaOCIManifest + ", " + mediaDockerList + ", " + mediaDockerV2
)

// ErrRegistry marks an answer (or no answer) from a registry that stops a
// reference from being resolved.
var ErrRegistry = errors.New("registry")

// ErrNotFound is a registry's 404: no such repository, tag or blob.
var ErrNotFound = fmt.Errorf("%w: not found", ErrRegistry)

var digestRe = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// Client talks to registries. HTTP is the transport (tests give one that
// trusts their TLS server); nil means a default client with a timeout.
type Client struct {
	HTTP *http.Client
}

// Timeout bounds one registry exchange so an unreachable registry ends in
// an error naming it instead of a stuck apply.
const Timeout = 30 * time.Second

func (c *Client) http() *http.Client {
	if c != nil && c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: Timeout}
}

// Digest resolves reference (a tag or a digest) of repository on the
// registry at base (https://host[:port]) to its manifest digest: what
// `repo@digest` pins: the registry's Docker-Content-Digest header when it
// is a sha256 digest, else the sha256 of the manifest a GET returns. HEAD
// is tried first (it does not count against Docker Hub's pull limit).
func (c *Client) Digest(ctx context.Context, base, repository, reference string) (string, error) {
	if digestRe.MatchString(reference) {
		return reference, nil
	}
	for _, method := range []string{http.MethodHead, http.MethodGet} {
		resp, err := c.get(ctx, method, base, repository, "/manifests/"+reference, manifestAcceptList)
		if err != nil {
			return "", err
		}
		d := resp.Header.Get("Docker-Content-Digest")
		if !digestRe.MatchString(d) && method == http.MethodGet {
			// Without the header, the digest is the sha256 of the
			// manifest bytes as served (what a pull by digest verifies).
			h := sha256.New()
			if _, err := io.Copy(h, io.LimitReader(resp.Body, 4<<20)); err == nil {
				d = "sha256:" + hex.EncodeToString(h.Sum(nil))
			}
		}
		resp.Body.Close()
		if digestRe.MatchString(d) {
			return d, nil
		}
	}
	return "", fmt.Errorf("%s/%s:%s: the registry did not say which manifest digest the tag points at (no Docker-Content-Digest header); pin the image by digest (name@sha256:…): %w",
		hostOf(base), repository, reference, ErrRegistry)
}

// manifest is the part of an image index or manifest read here.
type manifest struct {
	MediaType string `json:"mediaType"`
	Config    struct {
		Digest string `json:"digest"`
	} `json:"config"`
	Manifests []struct {
		Digest   string `json:"digest"`
		Platform struct {
			Architecture string `json:"architecture"`
			OS           string `json:"os"`
		} `json:"platform"`
	} `json:"manifests"`
}

// imageConfig is the part of an image config blob read here.
type imageConfig struct {
	Config ImageConfig `json:"config"`
}

// ImageConfig is what the fleet reads from an image's config blob: its
// ENTRYPOINT and its HEALTHCHECK (nil when the image has none).
type ImageConfig struct {
	Entrypoint  []string     `json:"Entrypoint"`
	Healthcheck *Healthcheck `json:"Healthcheck"`
}

// Healthcheck is an image's HEALTHCHECK as Docker stores it: Test is
// ["CMD", ...], ["CMD-SHELL", "..."] or ["NONE"]; durations are in
// nanoseconds, 0 meaning "not set" (Docker's defaults apply).
type Healthcheck struct {
	Test          []string `json:"Test"`
	Interval      int64    `json:"Interval"`
	Timeout       int64    `json:"Timeout"`
	StartPeriod   int64    `json:"StartPeriod"`
	StartInterval int64    `json:"StartInterval"`
	Retries       int      `json:"Retries"`
}

// Entrypoint reads the ENTRYPOINT of the image digest names (Config).
// An image without ENTRYPOINT gives nil.
func (c *Client) Entrypoint(ctx context.Context, base, repository, digest, arch string) ([]string, error) {
	cfg, err := c.Config(ctx, base, repository, digest, arch)
	return cfg.Entrypoint, err
}

// Config reads the config of the image digest names: its manifest (the
// linux/arch entry of an index, else the first), then the config blob.
func (c *Client) Config(ctx context.Context, base, repository, digest, arch string) (ImageConfig, error) {
	var m manifest
	if err := c.getJSON(ctx, base, repository, "/manifests/"+digest, manifestAcceptList, &m); err != nil {
		return ImageConfig{}, err
	}
	if len(m.Manifests) > 0 {
		pick := m.Manifests[0].Digest
		for _, e := range m.Manifests {
			if e.Platform.OS == "linux" && e.Platform.Architecture == arch {
				pick = e.Digest
				break
			}
		}
		m = manifest{}
		if err := c.getJSON(ctx, base, repository, "/manifests/"+pick, manifestAcceptList, &m); err != nil {
			return ImageConfig{}, err
		}
	}
	if !digestRe.MatchString(m.Config.Digest) {
		return ImageConfig{}, fmt.Errorf("%s/%s@%s: the manifest names no image config: %w", hostOf(base), repository, digest, ErrRegistry)
	}
	var cfg imageConfig
	if err := c.getJSON(ctx, base, repository, "/blobs/"+m.Config.Digest, "*/*", &cfg); err != nil {
		return ImageConfig{}, err
	}
	return cfg.Config, nil
}

func (c *Client) getJSON(ctx context.Context, base, repository, rest, accept string, out any) error {
	resp, err := c.get(ctx, http.MethodGet, base, repository, rest, accept)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(out); err != nil {
		return fmt.Errorf("%s/%s%s: unreadable answer from the registry: %v: %w", hostOf(base), repository, rest, err, ErrRegistry)
	}
	return nil
}

// get makes one request under /v2/<repository>, answering a 401 with the
// anonymous token flow its WWW-Authenticate header describes. Only a 2xx
// answer is returned.
func (c *Client) get(ctx context.Context, method, base, repository, rest, accept string) (*http.Response, error) {
	target := strings.TrimSuffix(base, "/") + "/v2/" + repository + rest
	what := fmt.Sprintf("%s %s", method, target)
	send := func(token string) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, method, target, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: %v: %w", what, err, ErrRegistry)
		}
		req.Header.Set("Accept", accept)
		req.Header.Set("User-Agent", "incus-fleet")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := c.http().Do(req)
		if err != nil {
			return nil, fmt.Errorf("%s: cannot reach the registry (%v): %w", what, err, ErrRegistry)
		}
		return resp, nil
	}
	resp, err := send("")
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusUnauthorized {
		challenge := resp.Header.Get("WWW-Authenticate")
		resp.Body.Close()
		token, err := c.token(ctx, challenge)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		if resp, err = send(token); err != nil {
			return nil, err
		}
	}
	if resp.StatusCode/100 != 2 {
		resp.Body.Close()
		kind := ErrRegistry
		if resp.StatusCode == http.StatusNotFound {
			kind = ErrNotFound
		}
		return nil, fmt.Errorf("%s: the registry answered %s: %w", what, resp.Status, kind)
	}
	return resp, nil
}

// token fetches an anonymous bearer token from the realm a 401 names
// (Bearer realm="…",service="…",scope="…").
func (c *Client) token(ctx context.Context, challenge string) (string, error) {
	scheme, params, _ := strings.Cut(challenge, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", fmt.Errorf("the registry wants credentials (%q), only anonymous pulls are supported; mirror the image to a registry that allows them, or pin it by digest and import it: %w", challenge, ErrRegistry)
	}
	p := parseChallenge(params)
	realm, err := url.Parse(p["realm"])
	if err != nil || (realm.Scheme != "https" && realm.Scheme != "http") {
		return "", fmt.Errorf("the registry names no usable token realm (%q): %w", challenge, ErrRegistry)
	}
	q := realm.Query()
	for _, k := range []string{"service", "scope"} {
		if p[k] != "" {
			q.Set(k, p[k])
		}
	}
	realm.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, realm.String(), nil)
	if err != nil {
		return "", fmt.Errorf("token request: %v: %w", err, ErrRegistry)
	}
	req.Header.Set("User-Agent", "incus-fleet")
	resp, err := c.http().Do(req)
	if err != nil {
		return "", fmt.Errorf("cannot reach the token service %s (%v): %w", realm.Host, err, ErrRegistry)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return "", fmt.Errorf("the token service %s answered %s: %w", realm.Host, resp.Status, ErrRegistry)
	}
	var tok struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&tok); err != nil {
		return "", fmt.Errorf("unreadable answer from the token service %s: %v: %w", realm.Host, err, ErrRegistry)
	}
	if tok.Token == "" {
		tok.Token = tok.AccessToken
	}
	if tok.Token == "" {
		return "", fmt.Errorf("the token service %s gave no token: %w", realm.Host, ErrRegistry)
	}
	return tok.Token, nil
}

// parseChallenge reads key="value" pairs separated by commas (values may
// hold commas inside quotes, as scopes do).
func parseChallenge(s string) map[string]string {
	out := map[string]string{}
	for s = strings.TrimSpace(s); s != ""; {
		key, rest, ok := strings.Cut(s, "=")
		if !ok {
			break
		}
		key = strings.ToLower(strings.TrimSpace(key))
		var val string
		if strings.HasPrefix(rest, `"`) {
			end := strings.Index(rest[1:], `"`)
			if end < 0 {
				val, rest = rest[1:], ""
			} else {
				val, rest = rest[1:1+end], rest[2+end:]
			}
		} else {
			val, rest, _ = strings.Cut(rest, ",")
			rest = "," + rest
		}
		out[key] = val
		s = strings.TrimLeft(strings.TrimSpace(rest), ",")
		s = strings.TrimSpace(s)
	}
	return out
}

func hostOf(base string) string {
	if u, err := url.Parse(base); err == nil && u.Host != "" {
		return u.Host
	}
	return base
}

// APIBase is where the distribution API of a registry named in an image
// reference lives: Docker Hub's API is registry-1.docker.io, every other
// registry serves it on its own name.
func APIBase(server string) string {
	server = strings.TrimSuffix(server, "/")
	switch server {
	case "https://docker.io", "https://index.docker.io":
		return "https://registry-1.docker.io"
	}
	return server
}
