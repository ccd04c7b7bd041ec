package scheduler

import (
	"fmt"
	"strconv"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// portLimit caps a service at one replica per member when it publishes a
// single host port (not a range): a second replica would clash on the port.
type portLimit struct{ port model.Port }

// newPortLimit returns the limit for the first single published port, if any.
func newPortLimit(svc *model.Service) (portLimit, bool) {
	for _, p := range svc.Ports {
		if p.PublishedStart > 0 && !p.IsRange() {
			return portLimit{p}, true
		}
	}
	return portLimit{}, false
}

func (portLimit) room(s *Service, i int) int { return max(1-s.count[i], 0) }

func (portLimit) bindsExisting() bool { return true }

func (l portLimit) explain(*Cluster, []int) string {
	p := strconv.Itoa(l.port.PublishedStart)
	if l.port.Protocol != "" && l.port.Protocol != "tcp" {
		p += "/" + l.port.Protocol
	}
	return fmt.Sprintf("published port %s allows one replica per member", p)
}
