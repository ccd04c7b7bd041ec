package incus

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// InstanceSource is where an instance's root filesystem comes from: a
// local image by fingerprint, or an image on a remote server.
type InstanceSource struct {
	Type        string `json:"type"`
	Fingerprint string `json:"fingerprint,omitempty"`
	Alias       string `json:"alias,omitempty"`
	Server      string `json:"server,omitempty"`
	Protocol    string `json:"protocol,omitempty"`
	Mode        string `json:"mode,omitempty"` // pull (OCI registries)
}

// Image is a Compose image reference resolved to an immutable fingerprint.
type Image struct {
	Ref         string
	Fingerprint string
	Source      InstanceSource
	// oci is set for an image pulled from an OCI registry (image_oci.go).
	oci *ociSource
}

// imageAlias is GET /1.0/images/aliases/{name}.
type imageAlias struct {
	Name   string `json:"name"`
	Target string `json:"target"`
}

// imageInfo is GET /1.0/images/{fingerprint}, as far as we read it.
type imageInfo struct {
	Fingerprint string `json:"fingerprint"`
}

// ResolveImage turns a reference into a pinned source: a fingerprint, a
// local alias (also tried without a trailing ":latest"), or remote:alias
// with the remote taken from the Incus client configuration.
func (c *Client) ResolveImage(ref string) (Image, error) {
	ctx := context.Background()
	if remote, alias, ok := splitRemote(ref); ok {
		return resolveRemote(ctx, ref, remote, alias)
	}
	for _, name := range localCandidates(ref) {
		var alias imageAlias
		_, err := c.call(ctx, http.MethodGet, "/images/aliases/"+url.PathEscape(name), Scope{}, nil, &alias)
		if err == nil {
			return localImage(ref, alias.Target), nil
		}
		if err = classify(err, "look up image alias %s", name); !isNotFound(err) {
			return Image{}, err
		}
	}
	if looksLikeFingerprint(ref) {
		var img imageInfo
		if _, err := c.call(ctx, http.MethodGet, "/images/"+ref, Scope{}, nil, &img); err == nil {
			return localImage(ref, img.Fingerprint), nil
		}
	}
	if len(ref) == 64 && looksLikeFingerprint(ref) {
		// A full fingerprint is a pin (a bundle's): only that exact image will do.
		return Image{}, fmt.Errorf("image with fingerprint %s is not in the cluster; the service is pinned to exactly that image (e.g. by a bundle): "+
			"import it, or copy it from where the bundle was made (incus image copy SOURCE:%s local:): %w", ref, ref[:12], ErrNotFound)
	}
	if img, ok, err := c.ociImage(context.TODO(), ref); ok { // image_oci.go
		return withOCISource(img), err
	}
	return Image{}, fmt.Errorf("image %q not found: no image alias or fingerprint %q in the cluster and no Incus remote named %q; "+
		"import it (incus image import … --alias %s) or set x-incus: {image: <alias>} on the service: %w",
		ref, ref, strings.SplitN(ref, ":", 2)[0], strings.TrimSuffix(ref, ":latest"), ErrNotFound)
}

func localImage(ref, fingerprint string) Image {
	return Image{Ref: ref, Fingerprint: fingerprint,
		Source: InstanceSource{Type: "image", Fingerprint: fingerprint}}
}

func localCandidates(ref string) []string {
	if trimmed := strings.TrimSuffix(ref, ":latest"); trimmed != ref {
		return []string{ref, trimmed}
	}
	return []string{ref}
}

func looksLikeFingerprint(ref string) bool {
	if len(ref) < 12 || len(ref) > 64 {
		return false
	}
	return strings.Trim(ref, "0123456789abcdef") == ""
}

// PinnedImage is an image known only by its fingerprint (from a record).
func PinnedImage(fingerprint string) Image {
	if img, ok := pinnedOCI(fingerprint); ok { // image_oci.go
		return withOCISource(img)
	}
	return localImage(fingerprint, fingerprint)
}

// withOCISource fills the instance source of an OCI image.
func withOCISource(img Image) Image {
	if o := img.oci; o != nil {
		img.Source = InstanceSource{Type: o.Type, Mode: o.Mode, Server: o.Server, Protocol: o.Protocol, Alias: o.Alias}
	}
	return img
}
