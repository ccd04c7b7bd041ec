package incus

import (
	"context"
	"net/http"
	"sync"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// serverResources is the part of GET /1.0/resources the scheduler needs.
type serverResources struct {
	CPU struct {
		Total uint64 `json:"total"`
	} `json:"cpu"`
	Memory struct {
		Total uint64 `json:"total"`
	} `json:"memory"`
}

// FillCapacity records each online member's CPU threads and memory so the
// scheduler can honour deploy.resources.reservations. It costs one call per
// member, so callers only ask for it when a service reserves something.
// Incus does not track reservations, so the scheduler checks them against
// each member's totals less what this plan places there.
func (c *Client) FillCapacity(ctx context.Context, state *model.ClusterState) error {
	var wg sync.WaitGroup
	errs := make([]error, len(state.Members))
	for i := range state.Members {
		m := &state.Members[i]
		if !m.Online() {
			continue
		}
		wg.Add(1)
		go func(i int, m *model.Member) {
			defer wg.Done()
			s := Scope{}
			if c.clustered {
				s.Target = m.Name
			}
			var res serverResources
			if _, err := c.call(ctx, http.MethodGet, "/resources", s, nil, &res); err != nil {
				errs[i] = classify(err, "read resources of member %s", m.Name)
				return
			}
			m.CPUs = int(res.CPU.Total)
			m.MemoryBytes = int64(res.Memory.Total)
		}(i, m)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// NeedsCapacity reports whether any service reserves CPU or memory.
func NeedsCapacity(stack *model.Stack) bool {
	for _, s := range stack.Services {
		if r := s.Deploy.Resources; r.ReserveCPUs > 0 || r.ReserveMemoryBytes > 0 {
			return true
		}
	}
	return false
}
