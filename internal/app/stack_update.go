package app

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/incus-fleet/incus-fleet/internal/incus"
	"github.com/incus-fleet/incus-fleet/internal/model"
)

// updateRecord is an update of a stack that has not (yet) finished, kept in
// the stack record (incus.KeyUpdate) before the first slot is touched. It
// says what the update rolls out, what ran before it began (the one
// rollback target of manual and automatic rollbacks, also after a crash or
// a rollback that failed half-way) and, when it stopped, where and why.
type updateRecord struct {
	Target    string   `json:"target"`         // sha256 of the spec the update rolls out
	From      string   `json:"from,omitempty"` // the spec current when the update began
	State     string   `json:"state"`          // updateRunning, updatePaused, …
	Service   string   `json:"service,omitempty"`
	Slots     []int    `json:"slots,omitempty"` // the slots that failed
	Instances []string `json:"instances,omitempty"`
	Reason    string   `json:"reason,omitempty"`
}

// Update states. Running is also what a killed run leaves behind.
const (
	updateRunning        = "running"
	updatePaused         = "paused"
	updateRolledBack     = "rolled_back"
	updateRollbackFailed = "rollback_failed"
)

// specTarget identifies a deployed spec in the update record.
func specTarget(spec string) string {
	sum := sha256.Sum256([]byte(spec))
	return hex.EncodeToString(sum[:])
}

// readUpdate returns the stack's update under way, or nil.
func readUpdate(name string, rec incus.StackRecord) (*updateRecord, error) {
	if rec.Update == "" {
		return nil, nil
	}
	var u updateRecord
	if err := json.Unmarshal([]byte(rec.Update), &u); err != nil || u.Target == "" {
		return nil, fmt.Errorf("the update record of stack %s (project config %s) is unreadable (%v); remove the key with `incus project unset %s %s` and apply again",
			name, incus.KeyUpdate, err, name, incus.KeyUpdate)
	}
	return &u, nil
}

func (u *updateRecord) encode() string {
	data, _ := json.Marshal(u) // plain strings and ints: cannot fail
	return string(data)
}

// stopAt records where a failed update stopped.
func (u *updateRecord) stopAt(state, service string, slots []int, instances []string, reason error) {
	u.State, u.Service, u.Slots, u.Instances = state, service, slots, instances
	u.Reason = ""
	if reason != nil {
		u.Reason = reason.Error()
	}
}

// holds reports whether the update stands stopped at exactly this spec:
// then applying it again changes nothing unless resume is asked.
func (u *updateRecord) holds(spec string) bool {
	return u != nil && u.State != updateRunning && u.Target == specTarget(spec)
}

// heldUpdateError answers a run that applies the spec of an update that
// stands paused (or was rolled back): nothing changes, and the message
// names the failed slot and the ways out.
type heldUpdateError struct {
	stack string
	u     *updateRecord
}

func (e *heldUpdateError) Error() string {
	u := e.u
	where := u.Service
	if len(u.Slots) > 0 {
		slots := make([]string, len(u.Slots))
		for i, s := range u.Slots {
			slots[i] = fmt.Sprint(s)
		}
		where = fmt.Sprintf("service %s slot %s (%s)", u.Service, strings.Join(slots, ", "), strings.Join(u.Instances, ", "))
	}
	what := map[string]string{
		updatePaused:         "is paused",
		updateRolledBack:     "failed and was rolled back",
		updateRollbackFailed: "failed, and its rollback failed too",
	}[u.State]
	return fmt.Sprintf("the update of stack %s to this spec %s at %s: %s. Applying the same spec again changes nothing. "+
		"Either fix the spec and apply it, or go back to the spec that ran before the update with stack.rollback "+
		"(incus-fleet stack rollback --name %s); to retry the update as it is, apply with resume: true (--resume)",
		e.stack, what, where, u.Reason, e.stack)
}

// code is the protocol error code: rolled_back when the update ended in a
// rollback, update_paused when it stopped half-way.
func (e *heldUpdateError) code() string {
	if e.u.State == updateRolledBack {
		return "rolled_back"
	}
	return "update_paused"
}

// stoppedState is the state a stopped update is recorded in: held (state)
// when the new version failed its gate; still running when the cluster
// failed an operation (a member lost mid-update), so the next run retries.
func stoppedState(state string, unhealthy bool) string {
	if unhealthy {
		return state
	}
	return updateRunning
}

// recordedDeployLabels shows each instance the deploy.labels of the spec
// current in the stack record: they are not part of the config hash (a
// change replaces nothing), so the copy an instance got when it was
// created may be older. It returns that spec (nil when there is none).
func recordedDeployLabels(c *incus.Client, name string, insts []stackInstance) (*model.Stack, error) {
	rec, err := c.ReadRecord(name)
	if err != nil || rec.Current == "" {
		return nil, err
	}
	stack, _, err := decodeSpec(name, rec.Current)
	if err != nil {
		return nil, nil // status still shows what the instances carry
	}
	for i := range insts {
		if svc := stack.Service(insts[i].Service); svc != nil {
			insts[i].Labels = svc.Deploy.Labels
		}
	}
	return stack, nil
}
