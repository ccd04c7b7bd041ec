package incus

import (
	"fmt"
	"strings"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// ociProcess maps entrypoint/command for an image pulled from an OCI
// registry. Incus runs such an image's ENTRYPOINT and CMD itself, from the
// instance key oci.entrypoint, without needing /bin/sh in the image (many
// OCI images have none, so the shell wrapper of initCommand is not used).
// Compose's entrypoint replaces the image's ENTRYPOINT and CMD, so
// entrypoint + command is exactly what runs. ok is false when the image's
// default process is kept.
func ociProcess(svc *model.Service) (entrypoint string, ok bool) {
	if len(svc.Entrypoint) == 0 {
		return "", false
	}
	argv := append(append([]string{}, svc.Entrypoint...), svc.Command...)
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = shellQuote(a)
	}
	return strings.Join(quoted, " "), true
}

// OCICommandWarning reports a command given without entrypoint for an OCI
// image: Compose puts it after the image's ENTRYPOINT, which the fleet
// cannot read before Incus pulls the image, so the image's own ENTRYPOINT
// and CMD run instead. "" when there is nothing to report.
func OCICommandWarning(svc *model.Service, img Image) string {
	if img.oci == nil || len(svc.Entrypoint) > 0 || len(svc.Command) == 0 {
		return ""
	}
	return fmt.Sprintf("service %q: command without entrypoint is not supported on Incus for the OCI image %s (it belongs after the image's ENTRYPOINT, which is only known once Incus has pulled the image); ignored: the image's ENTRYPOINT and CMD run; set entrypoint: to the image's ENTRYPOINT to pass a command",
		svc.Name, img.Ref)
}
