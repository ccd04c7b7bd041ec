package planner

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/constraint"
	"github.com/incus-fleet/incus-fleet/internal/model"
	"github.com/incus-fleet/incus-fleet/internal/scheduler"
)

func three() []model.Member {
	return []model.Member{online("node1"), online("node2"), online("node3")}
}

func TestPlan(t *testing.T) {
	web := svc("web", 3, "h1")
	web.Ports = []model.Port{{PublishedStart: 8000, PublishedEnd: 8009, Target: 80}, {Target: 9000}}
	webStartFirst := web
	webStartFirst.Deploy.UpdateConfig = model.UpdateConfig{Parallelism: 2, Order: model.OrderStartFirst}
	converged := []model.Instance{
		inst("web-1", "web", 1, "node1", "h1"), inst("web-2", "web", 2, "node2", "h1"), inst("web-3", "web", 3, "node3", "h1"),
	}
	cases := []struct {
		name      string
		stack     *model.Stack
		members   []model.Member
		instances []model.Instance
		opts      Options
		want      []string
		warn      string
	}{
		{
			name:    "fresh deploy",
			stack:   stack(web),
			members: three(),
			want: []string{
				"create web/1 web-1@node1 [missing] [8000 0]",
				"create web/2 web-2@node2 [missing] [8001 0]",
				"create web/3 web-3@node3 [missing] [8002 0]",
			},
		},
		{
			name:      "converged keeps",
			stack:     stack(web),
			members:   three(),
			instances: converged,
			want: []string{
				"keep web/1 web-1@node1 [8000 0]", "keep web/2 web-2@node2 [8001 0]", "keep web/3 web-3@node3 [8002 0]",
			},
		},
		{
			name:      "config change replaces in place in batches",
			stack:     stack(func() model.Service { s := webStartFirst; s.Hash = "h2"; return s }()),
			members:   three(),
			instances: converged,
			want: []string{
				// Each slot's port is held by its old instance on its member
				// until the new one is healthy, so the slots rotate.
				"replace web/1 web-1-b@node2 [config changed] (web-1@node1) start-first#1 [8000 0]",
				"replace web/2 web-2-b@node3 [config changed] (web-2@node2) start-first#1 [8001 0]",
				"replace web/3 web-3-b@node1 [config changed] (web-3@node3) start-first#2 [8002 0]",
			},
		},
		{
			name:      "start-first without ports replaces in place under the alternate name",
			stack:     stack(withOrder(svc("api", 2, "h2"), model.OrderStartFirst)),
			members:   three(),
			instances: []model.Instance{inst("api-1", "api", 1, "node1", "h1"), inst("api-2-b", "api", 2, "node2", "h1")},
			want: []string{
				"replace api/1 api-1-b@node1 [config changed] (api-1@node1) start-first#1",
				"replace api/2 api-2@node2 [config changed] (api-2-b@node2) start-first#2",
			},
		},
		{
			name:      "start-first with a single host port moves to a free member",
			stack:     stack(withPort(withOrder(svc("web", 1, "h2"), model.OrderStartFirst), 8080)),
			members:   three(),
			instances: []model.Instance{inst("web-1", "web", 1, "node2", "h1")},
			want:      []string{"replace web/1 web-1-b@node3 [config changed] (web-1@node2) start-first#1 [8080]"},
		},
		{
			name:      "start-first with a single host port and no free member falls back to stop-first",
			stack:     stack(withPort(withOrder(svc("web", 3, "h2"), model.OrderStartFirst), 8080)),
			members:   three(),
			instances: []model.Instance{inst("web-1", "web", 1, "node1", "h1"), inst("web-2", "web", 2, "node2", "h1"), inst("web-3", "web", 3, "node3", "h1")},
			want: []string{
				"replace web/1 web-1@node1 [config changed] (web-1@node1) stop-first#1 [8080]",
				"replace web/2 web-2@node2 [config changed] (web-2@node2) stop-first#2 [8080]",
				"replace web/3 web-3@node3 [config changed] (web-3@node3) stop-first#3 [8080]",
			},
			warn: "service web slot 1: start-first needs another member for its published ports",
		},
		{
			name:      "a stopped instance is replaced in place",
			stack:     stack(svc("api", 2, "h1")),
			members:   three(),
			instances: []model.Instance{inst("api-1", "api", 1, "node1", "h1"), withInstStatus(inst("api-2", "api", 2, "node2", "h1"), "Stopped")},
			want:      []string{"replace api/2 api-2@node2 [not running] (api-2@node2) stop-first#1", "keep api/1 api-1@node1"},
		},
		{
			name:      "a stopped instance of a restart: none service is left alone",
			stack:     stack(withRestart(svc("job", 1, "h1"), "none")),
			members:   three(),
			instances: []model.Instance{withInstStatus(inst("job-1", "job", 1, "node1", "h1"), "Stopped")},
			want:      []string{"keep job/1 job-1@node1"},
		},
		{
			name:      "image change",
			stack:     stack(svc("api", 1, "h1")),
			members:   three(),
			instances: []model.Instance{inst("api-1", "api", 1, "node2", "h1@old")},
			opts:      Options{ImageFingerprints: map[string]string{"api": "new"}},
			want:      []string{"replace api/1 api-1@node2 [image changed] (api-1@node2) stop-first#1"},
		},
		{
			name:      "unknown fingerprint compares config only",
			stack:     stack(svc("api", 1, "h1")),
			members:   three(),
			instances: []model.Instance{inst("api-1", "api", 1, "node2", "h1@old")},
			want:      []string{"keep api/1 api-1@node2"},
		},
		{
			name:      "fingerprint matches",
			stack:     stack(svc("api", 1, "h1")),
			members:   three(),
			instances: []model.Instance{inst("api-1", "api", 1, "node2", "h1@fp")},
			opts:      Options{ImageFingerprints: map[string]string{"api": "fp"}},
			want:      []string{"keep api/1 api-1@node2"},
		},
		{
			name:      "forced",
			stack:     stack(svc("api", 1, "h1")),
			members:   three(),
			instances: []model.Instance{inst("api-1", "api", 1, "node2", "h1")},
			opts:      Options{ForceRecreate: true},
			want:      []string{"replace api/1 api-1@node2 [forced] (api-1@node2) stop-first#1"},
		},
		{
			name:      "member offline moves the replica",
			stack:     stack(web),
			members:   []model.Member{online("node1"), online("node2"), withStatus(online("node3"), model.StatusOffline), online("node4")},
			instances: converged,
			want: []string{
				"replace web/3 web-3-b@node4 [member not eligible] (web-3@node3) start-first#1 [8002 0]",
				"keep web/1 web-1@node1 [8000 0]", "keep web/2 web-2@node2 [8001 0]",
			},
		},
		{
			name: "constraint no longer holds",
			stack: stack(func() model.Service {
				s := svc("db", 2, "h1")
				s.Deploy.Placement.Constraints = []string{"node.labels.storage==ssd"}
				return s
			}()),
			members:   []model.Member{online("node1", "storage", "ssd"), online("node2"), online("node3", "storage", "ssd")},
			instances: []model.Instance{inst("db-1", "db", 1, "node1", "h1"), inst("db-2", "db", 2, "node2", "h1")},
			want: []string{
				"replace db/2 db-2-b@node3 [member not eligible] (db-2@node2) start-first#1",
				"keep db/1 db-1@node1",
			},
		},
		{
			name: "over max_replicas_per_node moves the higher slot",
			stack: stack(func() model.Service {
				s := svc("db", 2, "h1")
				s.Deploy.Placement.MaxReplicasPerNode = 1
				return s
			}()),
			members:   three(),
			instances: []model.Instance{inst("db-1", "db", 1, "node1", "h1"), inst("db-2", "db", 2, "node1", "h1")},
			want: []string{
				"replace db/2 db-2-b@node2 [member not eligible] (db-2@node1) start-first#1",
				"keep db/1 db-1@node1",
			},
		},
		{
			name:      "scale down deletes highest slots first",
			stack:     stack(svc("web", 1, "h1")),
			members:   three(),
			instances: converged,
			want: []string{
				"delete web/3 web-3@node3 [scale down]", "delete web/2 web-2@node2 [scale down]", "keep web/1 web-1@node1",
			},
		},
		{
			name:      "scale up creates the missing slots on the emptiest members",
			stack:     stack(svc("web", 5, "h1")),
			members:   three(),
			instances: converged,
			want: []string{
				"create web/4 web-4@node1 [missing]", "create web/5 web-5@node2 [missing]",
				"keep web/1 web-1@node1", "keep web/2 web-2@node2", "keep web/3 web-3@node3",
			},
		},
		{
			name:      "orphans are deleted after all services",
			stack:     stack(svc("web", 1, "h1"), svc("zed", 1, "z")),
			members:   three(),
			instances: []model.Instance{inst("web-1", "web", 1, "node1", "h1"), inst("old-1", "old", 1, "node2", "x"), inst("old-2", "old", 2, "node3", "x"), inst("zed-1", "zed", 1, "node1", "z")},
			want: []string{
				"keep web/1 web-1@node1", "keep zed/1 zed-1@node1",
				"delete old/2 old-2@node3 [orphan]", "delete old/1 old-1@node2 [orphan]",
			},
		},
		{
			name:    "duplicate slot keeps the eligible, up-to-date one",
			stack:   stack(svc("web", 1, "h1")),
			members: []model.Member{online("node1"), withStatus(online("node2"), model.StatusEvacuated), online("node3")},
			instances: []model.Instance{
				inst("web-1", "web", 1, "node2", "h1"), inst("web-1b", "web", 1, "node3", "h1"), inst("web-1a", "web", 1, "node1", "old"),
			},
			want: []string{
				"delete web/1 web-1@node2 [duplicate slot]", "delete web/1 web-1a@node1 [duplicate slot]", "keep web/1 web-1b@node3",
			},
		},
		{
			name:      "duplicate slot tie goes to the lower name",
			stack:     stack(svc("web", 1, "h1")),
			members:   three(),
			instances: []model.Instance{inst("web-1b", "web", 1, "node2", "h1"), inst("web-1a", "web", 1, "node1", "h1")},
			want:      []string{"delete web/1 web-1b@node2 [duplicate slot]", "keep web/1 web-1a@node1"},
		},
		{
			name:      "limited run keeps other services and orphans",
			stack:     stack(svc("api", 2, "new"), svc("web", 1, "new")),
			members:   three(),
			instances: []model.Instance{inst("api-1", "api", 1, "node1", "old"), inst("web-1", "web", 1, "node2", "old"), inst("old-1", "old", 1, "node3", "x")},
			opts:      Options{Services: []string{"web"}},
			want: []string{
				"keep api/1 api-1@node1",
				"replace web/1 web-1@node2 [config changed] (web-1@node2) stop-first#1",
				"keep old/1 old-1@node3",
			},
		},
		{
			name:      "limited run may name an orphan",
			stack:     stack(svc("web", 1, "h1")),
			members:   three(),
			instances: []model.Instance{inst("web-1", "web", 1, "node2", "old"), inst("old-1", "old", 1, "node3", "x")},
			opts:      Options{Services: []string{"old"}},
			want:      []string{"keep web/1 web-1@node2", "delete old/1 old-1@node3 [orphan]"},
		},
		{
			name:    "other stacks and foreign instances are ignored but count as load",
			stack:   stack(svc("web", 2, "h1")),
			members: three(),
			instances: []model.Instance{
				func() model.Instance {
					i := inst("web-1", "web", 1, "node1", "h1")
					i.Config[model.KeyStack], i.Project = "other", "other"
					return i
				}(),
				{Name: "web-2", Member: "node2"},
			},
			want: []string{"create web/1 web-1@node3 [missing]", "create web/2 web-2@node1 [missing]"},
		},
		{
			// Issue 12 item 1: `incus copy s/web-1/snap web-1 --target-project
			// backup` keeps every user.fleet.* key; the copy is not the stack's.
			name:    "a copy of a replica in another project claims no slot",
			stack:   stack(svc("web", 2, "h1")),
			members: three(),
			instances: []model.Instance{
				inst("web-1", "web", 1, "node1", "h1"),
				inst("web-2", "web", 2, "node2", "h1"),
				func() model.Instance {
					i := inst("web-1", "web", 1, "node2", "h1")
					i.Project, i.Status = "backup", "Stopped"
					return i
				}(),
			},
			want: []string{"keep web/1 web-1@node1", "keep web/2 web-2@node2"},
		},
		{
			name:      "damaged record warns",
			stack:     stack(svc("web", 1, "h1")),
			members:   three(),
			instances: []model.Instance{{Name: "web-x", Project: stackName, Member: "node1", Config: map[string]string{model.KeyStack: stackName, model.KeyService: "web", model.KeySlot: "x"}}},
			want:      []string{"create web/1 web-1@node2 [missing]"},
			warn:      "instance web-x on node1 claims stack demo but its service/slot record is damaged; left alone",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := &model.ClusterState{Members: tc.members, Instances: tc.instances}
			plan, res, err := Plan(tc.stack, st, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := brief(plan.Steps); !slices.Equal(got, tc.want) {
				t.Fatalf("steps:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if plan.Stack != stackName {
				t.Fatalf("stack %q", plan.Stack)
			}
			if tc.warn != "" && !slices.ContainsFunc(res.Warnings, func(w string) bool { return strings.Contains(w, tc.warn) }) {
				t.Fatalf("warnings %q lack %q", res.Warnings, tc.warn)
			}
			if tc.warn == "" && len(res.Warnings) > 0 {
				t.Fatalf("unexpected warnings %q", res.Warnings)
			}
		})
	}
}

func TestPlanGlobal(t *testing.T) {
	agent := model.Service{Name: "agent", Hash: "h1", Deploy: model.DeploySpec{Mode: model.ModeGlobal}}
	agent.Ports = []model.Port{{PublishedStart: 9100, Target: 9100}}
	members := []model.Member{
		online("node1"), withStatus(online("node2"), model.StatusEvacuated), online("node3"), online("node4"), online("node5"),
	}
	instances := []model.Instance{
		inst("agent-1", "agent", 1, "node1", "h1"),
		inst("agent-2", "agent", 2, "node2", "h1"), // member evacuated: deleted
		inst("agent-3", "agent", 3, "node3", "h1"),
		inst("agent-5", "agent", 5, "node3", "h1"), // second on node3
	}
	plan, _, err := Plan(stack(agent), &model.ClusterState{Members: members, Instances: instances}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		// Slots 2 and 5 are still in use until their deletes run: new members get 4 and 6.
		"create agent/4 agent-4@node4 [missing] [9100]",
		"create agent/6 agent-6@node5 [missing] [9100]",
		"delete agent/5 agent-5@node3 [scale down]",
		"delete agent/2 agent-2@node2 [member not eligible]",
		"keep agent/1 agent-1@node1 [9100]",
		"keep agent/3 agent-3@node3 [9100]",
	}
	if got := brief(plan.Steps); !slices.Equal(got, want) {
		t.Fatalf("steps:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestPlanGlobalWarnings(t *testing.T) {
	agent := model.Service{Name: "agent", Hash: "h1", Deploy: model.DeploySpec{Mode: model.ModeGlobal}}
	agent.Deploy.Placement.Constraints = []string{"node.labels.gpu==yes"}
	_, res, err := Plan(stack(agent), &model.ClusterState{Members: three()}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := "global service agent has no eligible member: constraint node.labels.gpu==yes excluded 3 of 3 members"
	if !slices.Equal(res.Warnings, []string{want}) {
		t.Fatalf("warnings %q", res.Warnings)
	}

	agent.Deploy.Placement.Constraints = nil
	agent.Deploy.Resources.ReserveMemoryBytes = 2 << 30
	ms := three()
	ms[1].MemoryBytes = 1 << 30
	plan, res, err := Plan(stack(agent), &model.ClusterState{Members: ms}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Steps) != 2 {
		t.Fatalf("steps %v", brief(plan.Steps))
	}
	want = "no suitable node for agent (1 replica): insufficient resources on 1 member (reserving 2GiB memory per replica)"
	if !slices.Equal(res.Warnings, []string{want}) {
		t.Fatalf("warnings %q", res.Warnings)
	}
}

func TestPlanErrors(t *testing.T) {
	ranged := svc("web", 5, "h")
	ranged.Ports = []model.Port{{PublishedStart: 8000, PublishedEnd: 8002, Target: 80}}
	badCons := svc("db", 1, "h")
	badCons.Deploy.Placement.Constraints = []string{"node.labels.x = y"}
	badSpread := svc("db", 1, "h")
	badSpread.Deploy.Placement.Spread = []string{"rack"}
	badMode := svc("db", 1, "h")
	badMode.Deploy.Mode = "daemonset"
	globalRange := model.Service{Name: "agent", Deploy: model.DeploySpec{Mode: model.ModeGlobal}}
	globalRange.Ports = []model.Port{{PublishedStart: 8000, PublishedEnd: 8001, Target: 80}}
	cases := []struct {
		name  string
		stack *model.Stack
		opts  Options
		err   string
	}{
		{"port range too small", stack(ranged), Options{}, "service web: published port range 8000-8002:80 has 3 ports, too few for 5 replicas"},
		{"global port range too small", stack(globalRange), Options{}, "service agent: published port range 8000-8001:80 has 2 ports, too few for slot 3"},
		{"bad constraint", stack(badCons), Options{}, `service db: invalid constraint "node.labels.x = y": operator must be == or !=`},
		{"bad spread", stack(badSpread), Options{}, `service db: invalid spread preference "rack": unknown key "rack"`},
		{"bad mode", stack(badMode), Options{}, `service db: unknown deploy mode "daemonset"`},
		{"unknown service", stack(svc("web", 1, "h")), Options{Services: []string{"wbe"}}, `unknown service "wbe"`},
		{"duplicate service", stack(svc("web", 1, "h"), svc("web", 2, "h")), Options{}, `duplicate service "web"`},
		{"negative replicas", stack(svc("web", -1, "h")), Options{}, "service web: negative replicas -1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Plan(tc.stack, &model.ClusterState{Members: three()}, tc.opts)
			if err == nil || !strings.HasPrefix(err.Error(), tc.err) {
				t.Fatalf("err = %v, want %s", err, tc.err)
			}
			var se *SpecError
			if !errors.As(err, &se) {
				t.Fatalf("err %T is not a *SpecError", err)
			}
		})
	}
	if _, _, err := Plan(nil, nil, Options{}); err == nil {
		t.Fatal("nil stack")
	}
	var pe *constraint.ParseError
	if _, _, err := Plan(stack(badCons), nil, Options{}); !errors.As(err, &pe) || pe.Constraint != "node.labels.x = y" {
		t.Fatalf("constraint error not unwrappable: %v", err)
	}
}

func TestPlanNoSuitableNode(t *testing.T) {
	db := svc("db", 2, "h")
	db.Deploy.Placement.Constraints = []string{"node.labels.storage==ssd"}
	_, _, err := Plan(stack(db), &model.ClusterState{Members: three()}, Options{})
	var ns *scheduler.NoSuitableNodeError
	if !errors.As(err, &ns) || ns.Service != "db" || ns.Replicas != 2 {
		t.Fatalf("err = %#v", err)
	}
	want := "no suitable node for db (2 replicas): constraint node.labels.storage==ssd excluded 3 of 3 members"
	if err.Error() != want {
		t.Fatalf("err = %q", err)
	}
}

func TestPlanNilState(t *testing.T) {
	plan, _, err := Plan(stack(svc("web", 0, "h")), nil, Options{})
	if err != nil || len(plan.Steps) != 0 || plan.Steps == nil {
		t.Fatalf("plan %+v err %v", plan, err)
	}
}

func withOrder(s model.Service, order string) model.Service {
	s.Deploy.UpdateConfig = model.UpdateConfig{Parallelism: 1, Order: order}
	return s
}

func withPort(s model.Service, port int) model.Service {
	s.Ports = []model.Port{{PublishedStart: port, PublishedEnd: port, Target: 80}}
	return s
}

func withInstStatus(i model.Instance, status string) model.Instance {
	i.Status = status
	return i
}

func withRestart(s model.Service, condition string) model.Service {
	s.Deploy.RestartPolicy.Condition = condition
	return s
}
