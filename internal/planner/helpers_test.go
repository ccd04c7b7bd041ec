package planner

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

const stackName = "demo"

func online(name string, kv ...string) model.Member {
	m := model.Member{Name: name, Status: model.StatusOnline, Architecture: "x86_64", Labels: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		m.Labels[kv[i]] = kv[i+1]
	}
	return m
}

func withStatus(m model.Member, status string) model.Member {
	m.Status = status
	return m
}

func inst(name, service string, slot int, member, hash string) model.Instance {
	return model.Instance{Name: name, Project: stackName, Member: member, Status: "Running", Config: map[string]string{
		model.KeyStack: stackName, model.KeyService: service, model.KeySlot: strconv.Itoa(slot), model.KeyHash: hash,
	}}
}

func svc(name string, replicas int, hash string) model.Service {
	return model.Service{Name: name, Hash: hash, Deploy: model.DeploySpec{Mode: model.ModeReplicated, Replicas: replicas}}
}

func stack(services ...model.Service) *model.Stack {
	return &model.Stack{Name: stackName, Services: services}
}

// brief renders steps compactly for table comparison:
// "op service/slot instance@member [reason] (old@oldmember) order#batch ports".
func brief(steps []model.Step) []string {
	out := make([]string, len(steps))
	for i, s := range steps {
		b := fmt.Sprintf("%s %s/%d %s@%s", s.Op, s.Service, s.Slot, s.Instance, s.Member)
		if s.Reason != "" {
			b += " [" + s.Reason + "]"
		}
		if s.OldInstance != "" {
			b += " (" + s.OldInstance + "@" + s.OldMember + ")"
		}
		if s.Order != "" {
			b += fmt.Sprintf(" %s#%d", s.Order, s.Batch)
		}
		if len(s.HostPorts) > 0 {
			b += fmt.Sprintf(" %v", s.HostPorts)
		}
		if s.Volume != "" {
			b += " vol=" + s.Volume
		}
		if s.OldMember != "" && s.OldInstance == "" {
			b += " from=" + s.OldMember
		}
		if s.Sticky != "" {
			b += " sticky=" + s.Sticky
		}
		out[i] = b
	}
	return out
}

// apply executes a plan against a state the way the executor would, so
// tests can re-plan the result.
func apply(t testing.TB, st *model.ClusterState, desired *model.Stack, plan model.Plan, fps map[string]string) *model.ClusterState {
	t.Helper()
	type key struct{ name, member string }
	gone := map[key]bool{}
	var added []model.Instance
	for _, s := range plan.Steps {
		switch s.Op {
		case model.OpKeep:
		case model.OpDelete:
			gone[key{s.Instance, s.Member}] = true
		case model.OpReplace, model.OpCreate:
			if s.Op == model.OpReplace {
				gone[key{s.OldInstance, s.OldMember}] = true
			}
			sv := desired.Service(s.Service)
			if sv == nil {
				t.Fatalf("step for unknown service: %+v", s)
			}
			added = append(added, inst(s.Instance, s.Service, s.Slot, s.Member, ExpectedHash(sv, fps[s.Service])))
		default:
			t.Fatalf("unexpected op %q", s.Op)
		}
	}
	out := &model.ClusterState{Members: st.Members, StoragePools: st.StoragePools}
	for _, i := range st.Instances {
		if !gone[key{i.Name, i.Member}] {
			out.Instances = append(out.Instances, i)
		}
	}
	out.Instances = append(out.Instances, added...)
	return out
}

func onlyKeeps(plan model.Plan) string {
	var bad []string
	for _, s := range brief(plan.Steps) {
		if !strings.HasPrefix(s, "keep ") {
			bad = append(bad, s)
		}
	}
	return strings.Join(bad, "\n")
}
