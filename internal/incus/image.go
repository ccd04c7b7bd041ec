package incus

import (
	"context"
	"fmt"
	"strings"

	"github.com/lxc/incus/v6/shared/api"
	"github.com/lxc/incus/v6/shared/cliconfig"
)

// Image is a Compose image reference resolved to an immutable fingerprint.
type Image struct {
	Ref         string
	Fingerprint string
	Source      api.InstanceSource
	// oci is set for an image pulled from an OCI registry (image_oci.go).
	oci *ociSource
}

// ResolveImage turns a reference into a pinned source: a fingerprint, a
// local alias (also tried without a trailing ":latest"), or remote:alias
// with the remote taken from the Incus client configuration.
func (c *Client) ResolveImage(ref string) (Image, error) {
	if remote, alias, ok := c.splitRemote(ref); ok {
		return c.resolveRemote(ref, remote, alias)
	}
	for _, name := range localCandidates(ref) {
		alias, _, err := c.srv.GetImageAlias(name)
		if err == nil {
			return localImage(ref, alias.Target), nil
		}
		if err = classify(err, "look up image alias %s", name); !isNotFound(err) {
			return Image{}, err
		}
	}
	if looksLikeFingerprint(ref) {
		if img, _, err := c.srv.GetImage(ref); err == nil {
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
		Source: api.InstanceSource{Type: "image", Fingerprint: fingerprint}}
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

// splitRemote recognises remote:alias only for remotes the Incus client
// configuration knows, so "nginx:alpine" stays a plain alias otherwise.
func (c *Client) splitRemote(ref string) (cliconfig.Remote, string, bool) {
	name, alias, ok := strings.Cut(ref, ":")
	if !ok || alias == "" {
		return cliconfig.Remote{}, "", false
	}
	conf, err := cliconfig.LoadConfig("")
	if err != nil {
		return cliconfig.Remote{}, "", false
	}
	remote, ok := conf.Remotes[name]
	if !ok || remote.Addr == "" || strings.HasPrefix(remote.Addr, "unix:") {
		return cliconfig.Remote{}, "", false
	}
	return remote, alias, true
}

// resolveRemote pins a remote image by asking the remote for the alias target.
func (c *Client) resolveRemote(ref string, remote cliconfig.Remote, alias string) (Image, error) {
	src := api.InstanceSource{Type: "image", Server: remote.Addr, Protocol: remote.Protocol, Alias: alias}
	srv, err := connectImageServer(remote)
	if err != nil {
		return Image{}, fmt.Errorf("image %q: cannot reach remote %s: %v: %w", ref, remote.Addr, err, ErrUnreachable)
	}
	entry, _, err := srv.GetImageAlias(alias)
	if err != nil {
		return Image{}, classify(err, "image %q: alias %s on remote %s", ref, alias, remote.Addr)
	}
	src.Fingerprint, src.Alias = entry.Target, ""
	return Image{Ref: ref, Fingerprint: entry.Target, Source: src}, nil
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
		img.Source = api.InstanceSource{Type: o.Type, Mode: o.Mode, Server: o.Server, Protocol: o.Protocol, Alias: o.Alias}
	}
	return img
}
