package incus

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// settleBudget bounds how long a run that just took a stack's lock waits
// for operations a killed run left behind.
const settleBudget = 30 * time.Second

// settle waits for the instance operations still running in a stack's
// project. Operations outlive the client that started them: a run killed
// mid-create leaves the create running in Incus, and an instance being
// created is not listed until Incus writes its record, so the next run
// would plan to create it again and collide. Waiting for them before
// reading the state closes that window. Best effort: failures and the
// budget running out only mean the run goes on as before.
func (c *Client) settle(ctx context.Context, stack string) {
	var byStatus map[string][]Operation
	s := Scope{Project: stack, Query: url.Values{"recursion": {"1"}}}
	if _, err := c.call(unguarded(ctx), http.MethodGet, "/operations", s, nil, &byStatus); err != nil {
		return
	}
	deadline := time.Now().Add(settleBudget)
	for _, ops := range byStatus {
		for _, op := range ops {
			if op.done() || op.Class != "task" || !touchesInstances(op) {
				continue
			}
			left := time.Until(deadline)
			if left <= 0 {
				return
			}
			_, _ = c.waitOp(unguarded(ctx), op.ID, left, "operation "+op.ID)
		}
	}
}

func touchesInstances(op Operation) bool {
	for kind, paths := range op.Resources {
		if kind == "instances" || kind == "containers" {
			return len(paths) > 0
		}
		for _, p := range paths {
			if strings.HasPrefix(p, "/1.0/instances/") {
				return true
			}
		}
	}
	return false
}
