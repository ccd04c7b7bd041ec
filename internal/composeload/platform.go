package composeload

import (
	"fmt"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// withPlatform turns platform: "linux/arm64" into a placement constraint on
// the member architecture, as Swarm does for an image's platform, so a
// service only lands where its binaries run and an impossible platform
// fails the plan naming the constraint.
func withPlatform(s types.ServiceConfig, p model.Placement) (model.Placement, error) {
	if s.Platform == "" {
		return p, nil
	}
	parts := strings.Split(strings.ToLower(strings.TrimSpace(s.Platform)), "/")
	if parts[0] != "linux" {
		return p, serviceErr(s.Name, "platform", "%q is not a Linux platform; Incus containers run Linux (write linux/amd64, linux/arm64, ...)", s.Platform)
	}
	if len(parts) < 2 || parts[1] == "" {
		return p, nil
	}
	p.Constraints = append(append([]string{}, p.Constraints...), "node.platform.arch=="+parts[1])
	return p, nil
}

// checkContainerName refuses container_name for a service with several
// instances (one name cannot name them all, as Compose refuses it with
// scale) and otherwise reports that instances keep the fleet's names.
func checkContainerName(s types.ServiceConfig, d model.DeploySpec, w *warnings) error {
	if s.ContainerName == "" {
		return nil
	}
	if d.Mode == model.ModeGlobal || d.Replicas > 1 {
		return serviceErr(s.Name, "container_name", "%q cannot name several instances; remove container_name (instances are named %s-1, %s-2, ...)", s.ContainerName, s.Name, s.Name)
	}
	w.add(unsupported(s.Name, "container_name", fmt.Sprintf("instances are named <service>-<slot>, here %s-1, so a rolling update can run the next one beside it", s.Name)))
	return nil
}
