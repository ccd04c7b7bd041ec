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

// containerNameWithReplicas refuses container_name on a service with
// several replicas before compose-go does, because compose-go's own error
// names neither the service nor the field in a way a user can act on.
func containerNameWithReplicas(dict map[string]any) error {
	services, _ := dict["services"].(map[string]any)
	for _, name := range sortedKeys(services) {
		svc, _ := services[name].(map[string]any)
		cn, _ := svc["container_name"].(string)
		if cn == "" {
			continue
		}
		n := 0
		if d, ok := svc["deploy"].(map[string]any); ok {
			n = asInt(d["replicas"])
		}
		if s := asInt(svc["scale"]); s > n {
			n = s
		}
		if n > 1 {
			return serviceErr(name, "container_name", "%q cannot name %d replicas; remove container_name (instances are named %s-1, %s-2, ...)", cn, n, name, name)
		}
	}
	return nil
}

func asInt(v any) int {
	switch n := v.(type) {
	case int:
		return n
	case int64:
		return int(n)
	case uint64:
		return int(n)
	case float64:
		return int(n)
	}
	return 0
}
