package planner

import (
	"fmt"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// warnings flags plans that are valid but will hurt when executed.
func (p *servicePlan) warnings() []string {
	var out []string
	// start-first starts the new instance before stopping the old one; on
	// the same member its published port (single, or the slot's port of a
	// range) is still held by the old one.
	if p.svc.Deploy.UpdateConfig.Order == model.OrderStartFirst {
		for _, port := range p.svc.Ports {
			if port.PublishedStart > 0 && p.replacesInPlace() {
				out = append(out, fmt.Sprintf("service %s: start-first update in place while publishing port %d; the new instance cannot bind it until the old one stops",
					p.svc.Name, port.PublishedStart))
				break
			}
		}
	}
	return out
}

func (p *servicePlan) replacesInPlace() bool {
	for _, s := range p.replaces {
		if s.Member == s.OldMember {
			return true
		}
	}
	return false
}
