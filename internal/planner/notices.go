package planner

import (
	"fmt"
	"strings"
)

// notices returns the service's warnings that do not depend on placement:
// what classifying its instances found (offline.go) and spread preferences
// that are accepted but mean something other than they say.
func (p *servicePlan) notices() []string {
	out := p.notes
	for _, pref := range p.svc.Deploy.Placement.Spread {
		// Seen in the wild (and in our seed files); Swarm knows no such
		// node attribute. The scheduler reads it as spreading over members,
		// which its leaf level does anyway, so say so rather than fail.
		if strings.EqualFold(strings.TrimSpace(pref), "instanceId") {
			out = append(out, fmt.Sprintf("service %s: spread preference %q is not a node attribute; it is taken to mean spreading over members (like node.id), which replicas already do by default",
				p.svc.Name, pref))
			break
		}
	}
	return out
}
