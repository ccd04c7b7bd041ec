package app

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// Instance states status shows for what Incus cannot report.
const (
	stateUnknown = "Unknown" // on a member that is not online
	stateMissing = "Missing" // a slot the spec wants has no instance
)

// withHiddenSlots adds the rows the instance list alone hides, so status
// lists every slot the deployed spec wants:
//   - an instance of the stack on a member that is not online: Incus lists
//     it with its name, member and status Error but without its config, so
//     its ownership cannot be read (its service and slot are shown from
//     its name, for the reader only: nothing acts on that);
//   - a slot of a replicated service with no instance at all.
//
// Such rows have state Unknown or Missing and say why, naming a volume of
// the slot that waits on a member that is not online. spec is the deployed
// spec (nil when the record has none: only the first kind is added).
func withHiddenSlots(rows []stackInstance, state *model.ClusterState, stack string, spec *model.Stack) []stackInstance {
	status := map[string]string{}
	for _, m := range state.Members {
		status[m.Name] = m.Status
	}
	away := func(member string) bool { s, ok := status[member]; return ok && s != model.StatusOnline }
	for _, in := range state.Instances {
		if _, _, _, ok := in.Owned(); ok || in.Project != stack || !away(in.Member) {
			continue
		}
		svc, slot := slotFromName(in.Name, spec)
		rows = append(rows, stackInstance{Service: svc, Slot: slot, Instance: in.Name, Member: in.Member, State: stateUnknown,
			Reason: fmt.Sprintf("member %s is %s: Incus cannot read this instance", in.Member, strings.ToLower(status[in.Member]))})
	}
	if spec != nil {
		have := map[string]bool{}
		for _, r := range rows {
			have[r.Service+"/"+strconv.Itoa(r.Slot)] = true
		}
		for _, svc := range spec.Services {
			if svc.Deploy.Mode == model.ModeGlobal {
				continue // one per eligible member: nothing to count here
			}
			for slot := 1; slot <= svc.Deploy.Replicas; slot++ {
				if !have[svc.Name+"/"+strconv.Itoa(slot)] {
					rows = append(rows, stackInstance{Service: svc.Name, Slot: slot, State: stateMissing,
						Reason: "no instance: the next `stack up` or `stack watch` creates it"})
				}
			}
		}
	}
	for i := range rows {
		if rows[i].State != stateUnknown && rows[i].State != stateMissing {
			continue
		}
		// A slot whose volume lies on a member that is away waits for it.
		for _, v := range state.Volumes {
			if v.Project != stack || v.Config[model.KeyService] != rows[i].Service || v.Config[model.KeySlot] != strconv.Itoa(rows[i].Slot) || !away(v.Member) {
				continue
			}
			if rows[i].Member == "" {
				rows[i].Member, rows[i].State = v.Member, stateUnknown
				rows[i].Reason = fmt.Sprintf("member %s is %s", v.Member, strings.ToLower(status[v.Member]))
			}
			rows[i].Reason += fmt.Sprintf("; the slot waits for its volume %s there", v.Name)
		}
	}
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.Service != b.Service {
			return a.Service < b.Service
		}
		if a.Slot != b.Slot {
			return a.Slot < b.Slot
		}
		return a.Instance < b.Instance
	})
	return rows
}

// slotFromName reads service and slot back from an instance name the
// planner gave (<service>-<slot>, maybe with a letter suffix), for display
// only; ("", 0) when it does not fit a service of the spec.
func slotFromName(name string, spec *model.Stack) (string, int) {
	if spec == nil {
		return "", 0
	}
	for _, svc := range spec.Services {
		rest, ok := strings.CutPrefix(name, svc.Name+"-")
		if !ok {
			continue
		}
		digits, _, _ := strings.Cut(rest, "-")
		if slot, err := strconv.Atoi(digits); err == nil && slot > 0 {
			return svc.Name, slot
		}
	}
	return "", 0
}

// statusSummary is stack.status's comment: how many rows run, and how many
// are unknown or missing (they count as not running).
func statusSummary(stack string, rows []stackInstance) string {
	running, unknown, missing, unhealthy := 0, 0, 0, 0
	for _, r := range rows {
		if r.Health == "unhealthy" {
			unhealthy++
		}
		switch r.State {
		case "Running":
			running++
		case stateUnknown:
			unknown++
		case stateMissing:
			missing++
		}
	}
	out := fmt.Sprintf("stack %s: %d of %d instances running", stack, running, len(rows))
	if unknown > 0 {
		out += fmt.Sprintf("; %d unknown (member not online)", unknown)
	}
	if missing > 0 {
		out += fmt.Sprintf("; %d missing", missing)
	}
	if unhealthy > 0 {
		out += fmt.Sprintf("; %d unhealthy", unhealthy)
	}
	return out
}
