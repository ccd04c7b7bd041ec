package planner

import (
	"fmt"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// hostPorts gives the host port each of the service's ports publishes for a
// slot: a range hands slot n its n-th port, a single port is shared (the
// scheduler keeps such replicas on distinct members), 0 = not published.
func hostPorts(svc *model.Service, slot int) []int {
	if len(svc.Ports) == 0 {
		return nil
	}
	out := make([]int, len(svc.Ports))
	fillHostPorts(out, svc, slot)
	return out
}

// fillHostPorts writes hostPorts' result into out (len(svc.Ports)).
func fillHostPorts(out []int, svc *model.Service, slot int) {
	for i, p := range svc.Ports {
		switch {
		case p.PublishedStart <= 0:
		case p.IsRange():
			out[i] = p.PublishedStart + slot - 1
		default:
			out[i] = p.PublishedStart
		}
	}
}

// checkPortRanges fails when a published range has fewer ports than the
// highest slot needs; the executor would otherwise publish outside the
// range the user wrote.
func checkPortRanges(svc *model.Service, maxSlot int, what string) error {
	for _, p := range svc.Ports {
		if !p.IsRange() {
			continue
		}
		if size := p.PublishedEnd - p.PublishedStart + 1; maxSlot > size {
			return &SpecError{svc.Name, fmt.Errorf("published port range %d-%d:%d has %d ports, too few for %s",
				p.PublishedStart, p.PublishedEnd, p.Target, size, what)}
		}
	}
	return nil
}
