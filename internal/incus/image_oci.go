package incus

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/incus-fleet/incus-fleet/internal/ociref"
)

// ociExtension is the API extension of Incus 6.3 and later that runs
// images from OCI registries (`incus remote add … --protocol=oci`).
const ociExtension = "instance_oci"

// OCIRegistryKey is the cluster setting (server config, `incus config set
// user.fleet.oci_registry URL`) naming the registry Docker Hub names are
// pulled from instead of https://docker.io, e.g. a mirror.
const OCIRegistryKey = "user.fleet.oci_registry"

// ociRef is a Docker image reference split the way registries read it.
type ociRef struct {
	Registry   string // docker.io, ghcr.io, registry.example:5000
	Repository string // library/postgres, org/app
	Tag        string // "" when pinned by digest only
	Digest     string // sha256:…, "" when unpinned
}

var (
	ociRegistryRe = regexp.MustCompile(`^[A-Za-z0-9.-]+(:[0-9]+)?$`)
	ociRepoRe     = regexp.MustCompile(`^[a-z0-9]+([._-]+[a-z0-9]+)*(/[a-z0-9]+([._-]+[a-z0-9]+)*)*$`)
	ociTagRe      = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	ociDigestRe   = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
)

// parseOCIRef reads a Docker image reference ([registry/]repo[:tag][@digest])
// with Docker Hub's rules: no registry means docker.io, and a one-part name
// lives under library/. ok is false for anything else.
func parseOCIRef(ref string) (ociRef, bool) {
	var r ociRef
	rest := ref
	if name, digest, ok := strings.Cut(rest, "@"); ok {
		if !ociDigestRe.MatchString(digest) {
			return r, false
		}
		rest, r.Digest = name, digest
	}
	if i := strings.LastIndex(rest, ":"); i > strings.LastIndex(rest, "/") {
		rest, r.Tag = rest[:i], rest[i+1:]
		if !ociTagRe.MatchString(r.Tag) {
			return r, false
		}
	}
	first, remainder, hasSlash := strings.Cut(rest, "/")
	if hasSlash && (strings.ContainsAny(first, ".:") || first == "localhost") {
		if !ociRegistryRe.MatchString(first) {
			return r, false
		}
		r.Registry, rest = first, remainder
	} else {
		r.Registry = "docker.io"
	}
	if r.Registry == "docker.io" && !strings.Contains(rest, "/") {
		rest = "library/" + rest
	}
	if !ociRepoRe.MatchString(rest) {
		return r, false
	}
	r.Repository = rest
	if r.Tag == "" && r.Digest == "" {
		r.Tag = "latest"
	}
	return r, true
}

// alias is the name the OCI remote is asked for: repository:tag, or
// repository@digest when pinned (the digest wins over a tag).
func (r ociRef) alias() string {
	if r.Digest != "" {
		return r.Repository + "@" + r.Digest
	}
	return r.Repository + ":" + r.Tag
}

// ociSource is the instance source of POST /1.0/instances for an OCI
// image: Incus pulls it from the registry on the member that creates the
// instance.
type ociSource struct {
	Type     string `json:"type"`
	Mode     string `json:"mode"`
	Server   string `json:"server"`
	Protocol string `json:"protocol"`
	Alias    string `json:"alias"`
	// entrypoint is the image's ENTRYPOINT once read from the registry
	// (image_oci_entrypoint.go); read says whether it was.
	entrypoint []string
	read       bool
	// healthcheck is the image's HEALTHCHECK, read with the entrypoint.
	healthcheck *ociref.Healthcheck
}

// source builds the pull request for the image; dockerHub replaces
// https://docker.io when the cluster names a mirror.
func (r ociRef) source(dockerHub string) ociSource {
	server := "https://" + r.Registry
	if r.Registry == "docker.io" && dockerHub != "" {
		server = strings.TrimSuffix(dockerHub, "/")
	}
	return ociSource{Type: "image", Mode: "pull", Server: server, Protocol: "oci", Alias: r.alias()}
}

// ociImage maps a Docker image reference that names no Incus image. Incus
// runs OCI images only from 6.3 on; on an older server the error says
// which version is needed and what to do instead. ok is false when ref is
// not a Docker reference at all.
func (c *Client) ociImage(ctx context.Context, ref string) (img Image, ok bool, err error) {
	r, ok := parseOCIRef(ref)
	if !ok {
		return Image{}, false, nil
	}
	var info serverInfo
	if _, err := c.call(ctx, "GET", "", Scope{}, nil, &info); err != nil {
		return Image{}, true, err
	}
	return ociImageFor(ctx, c.oci.client(), ref, r, info)
}

// ociImageFor decides from the server's facts and the registry's answer
// (the registry is a parameter, so tests give one on 127.0.0.1).
func ociImageFor(ctx context.Context, reg *ociref.Client, ref string, r ociRef, info serverInfo) (Image, bool, error) {
	if !slices.Contains(info.APIExtensions, ociExtension) {
		version := info.Environment.ServerVersion
		if version == "" {
			version = "an older version"
		}
		return Image{}, true, fmt.Errorf("image %q not found: no Incus image alias or fingerprint of that name, and as a Docker (OCI) image reference it needs Incus 6.3 or later to run from a registry (API extension %s), this cluster runs Incus %s: "+
			"import the image into Incus and name its alias (incus image import … --alias %s), or set x-incus: {image: <alias>} on the service, or upgrade Incus: %w",
			ref, ociExtension, version, strings.NewReplacer(":", "-", "/", "-", "@", "-").Replace(ref), ErrNotFound)
	}
	src := r.source(info.Config[OCIRegistryKey])
	// The pin is the manifest digest the tag points at now, so a moved tag
	// changes the config hash (an update) and every instance, including a
	// later rollback's, pulls exactly this image.
	if r.Digest == "" {
		digest, err := reg.Digest(ctx, ociref.APIBase(src.Server), r.Repository, r.Tag)
		if err != nil {
			return Image{}, true, registryError(ref, src.Server, err)
		}
		r.Digest = digest
		src.Alias = r.alias()
	}
	pin := "oci:" + src.Server + "/" + src.Alias
	return Image{Ref: ref, Fingerprint: pin, oci: &src}, true, nil
}

// registryError says why a reference could not be resolved and what to do.
func registryError(ref, server string, err error) error {
	kind := ErrUnreachable
	if errors.Is(err, ociref.ErrNotFound) {
		kind = ErrNotFound
	}
	return fmt.Errorf("image %q: cannot resolve it to a manifest digest at the registry %s (%v); check the name and tag, make the registry reachable from where incus-fleet runs, or set %s to a reachable mirror: %w",
		ref, server, err, OCIRegistryKey, kind)
}

// pinnedOCI rebuilds an OCI image from the pin a stack record keeps
// ("oci:https://docker.io/library/postgres:16"), so a rollback pulls the
// same reference.
func pinnedOCI(pin string) (Image, bool) {
	rest, ok := strings.CutPrefix(pin, "oci:")
	if !ok {
		return Image{}, false
	}
	scheme, hostPath, ok := strings.Cut(rest, "://")
	if !ok {
		return Image{}, false
	}
	host, alias, ok := strings.Cut(hostPath, "/")
	if !ok {
		return Image{}, false
	}
	src := ociSource{Type: "image", Mode: "pull", Server: scheme + "://" + host, Protocol: "oci", Alias: alias}
	return Image{Ref: pin, Fingerprint: pin, oci: &src}, true
}
