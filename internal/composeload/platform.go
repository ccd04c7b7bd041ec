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

// checkContainerName reports that instances keep the fleet's names. With
// several instances one name cannot name them all: like Swarm, the key is
// ignored with a warning naming the names used instead (replicated
// services with several replicas were already handled on the merged
// model, see dropContainerName).
func checkContainerName(s types.ServiceConfig, d model.DeploySpec, w *warnings) error {
	if s.ContainerName == "" {
		return nil
	}
	switch {
	case d.Mode == model.ModeGlobal:
		w.add(containerNameIgnored(s.Name, s.ContainerName, "the instances of a global service (one per member)", s.Name+"-1, "+s.Name+"-2, ... (one slot per member)"))
	case d.Replicas > 1:
		w.add(containerNameIgnored(s.Name, s.ContainerName, fmt.Sprintf("%d replicas", d.Replicas), instanceNames(s.Name, d.Replicas)))
	default:
		w.add(unsupported(s.Name, "container_name", fmt.Sprintf("instances are named <service>-<slot>, here %s-1, so a rolling update can run the next one beside it", s.Name)))
	}
	return nil
}

// dropContainerName removes container_name from services with several
// replicas (deploy.replicas or scale) in the merged model, before
// compose-go refuses it, and returns the warning for each such service:
// Swarm ignores the key there, and so do we.
func dropContainerName(dict map[string]any) map[string]string {
	out := map[string]string{}
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
			delete(svc, "container_name")
			out[name] = containerNameIgnored(name, cn, fmt.Sprintf("%d replicas", n), instanceNames(name, n))
		}
	}
	return out
}

func containerNameIgnored(service, name, what, names string) string {
	return fmt.Sprintf("service %q: container_name %q is ignored, as Swarm does: one name cannot name %s; the instances are named %s", service, name, what, names)
}

// instanceNames lists a replicated service's instance names, eliding the
// middle of a long list so a 1,000-replica warning stays one short line.
func instanceNames(service string, n int) string {
	var parts []string
	for i := 1; i <= n; i++ {
		if n > 4 && i == 3 {
			parts = append(parts, "...")
			i = n
		}
		parts = append(parts, fmt.Sprintf("%s-%d", service, i))
	}
	return strings.Join(parts, ", ")
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
