package incus

import (
	"strings"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// ociProcess maps entrypoint/command for an image pulled from an OCI
// registry. Incus runs such an image's ENTRYPOINT and CMD itself, from the
// instance key oci.entrypoint, without needing /bin/sh in the image (many
// OCI images have none, so the shell wrapper of initCommand is not used).
// As in Compose, entrypoint replaces the image's ENTRYPOINT and CMD, and a
// command alone replaces CMD and runs after the image's ENTRYPOINT (read
// from the registry, image_oci_entrypoint.go). ok is false when the image's
// default process is kept.
func ociProcess(svc *model.Service, img Image) (entrypoint string, ok bool) {
	var argv []string
	switch {
	case len(svc.Entrypoint) > 0:
		argv = append(append(argv, svc.Entrypoint...), svc.Command...)
	case len(svc.Command) > 0 && img.oci.read:
		argv = append(append(argv, img.oci.entrypoint...), svc.Command...)
	default:
		return "", false
	}
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = shellQuote(a)
	}
	return strings.Join(quoted, " "), true
}
