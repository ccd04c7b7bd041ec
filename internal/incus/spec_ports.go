package incus

import (
	"fmt"
	"strings"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// KeyPublished records the host ports an instance publishes
// ("8080:80/tcp,6379:6379/tcp"), so stack status can show where a port
// without a host port in the Compose file was published.
const KeyPublished = "user.fleet.published"

// publishedValue renders a slot's published ports for KeyPublished; "" when
// it publishes none.
func publishedValue(ports []model.Port, hostPorts []int) string {
	var out []string
	for i, p := range ports {
		if i < len(hostPorts) && hostPorts[i] != 0 {
			out = append(out, fmt.Sprintf("%d:%d/%s", hostPorts[i], p.Target, p.Protocol))
		}
	}
	return strings.Join(out, ",")
}
