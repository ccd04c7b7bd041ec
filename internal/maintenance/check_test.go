package maintenance

import (
	"strings"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

var three = []Member{{"n1", "Online"}, {"n2", "Online"}, {"n3", "Online"}}

func svc(replicas, parallelism, maxPerNode int, on map[string]int) Service {
	return Service{Stack: "shop", Service: "web", Recorded: true, RunningOn: on,
		Deploy: model.DeploySpec{Mode: model.ModeReplicated, Replicas: replicas,
			UpdateConfig: model.UpdateConfig{Parallelism: parallelism},
			Placement:    model.Placement{MaxReplicasPerNode: maxPerNode}}}
}

func TestMaintenanceCheck(t *testing.T) {
	cases := []struct {
		name   string
		svc    Service
		ok     bool
		reason string
	}{
		{"one of three, parallelism 1", svc(3, 1, 0, map[string]int{"n1": 1, "n2": 1, "n3": 1}), true, ""},
		{"two of three on the member, parallelism 1", svc(3, 1, 0, map[string]int{"n1": 2, "n3": 1}), false,
			"stops 2 of its 3 running replicas, leaving 1; update_config.parallelism 1 allows at most 1 down at once (at least 2 of 3 running)"},
		{"two on the member, parallelism 2", svc(3, 2, 0, map[string]int{"n1": 2, "n3": 1}), true, ""},
		{"already one short elsewhere", svc(3, 1, 0, map[string]int{"n1": 1, "n2": 1}), false, "leaving 1"},
		{"parallelism 0 = all at once", svc(2, 0, 0, map[string]int{"n1": 2}), true, ""},
		{"nothing on the member", svc(3, 1, 0, map[string]int{"n2": 1}), true, ""},
		{"max_replicas_per_node (lowered since) leaves too little room", svc(4, 1, 1, map[string]int{"n1": 1, "n2": 2, "n3": 1}), false,
			"can hold only 2 replicas (max_replicas_per_node 1)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := Check("n1", three, []Service{tc.svc})
			if res.OK != tc.ok {
				t.Fatalf("ok %v, want %v: %+v", res.OK, tc.ok, res.Services)
			}
			if !tc.ok && !strings.Contains(res.Refusal(), tc.reason) {
				t.Fatalf("refusal %q lacks %q", res.Refusal(), tc.reason)
			}
			if !tc.ok && !strings.Contains(res.Refusal(), "stack shop service web") {
				t.Fatalf("refusal does not name the service: %q", res.Refusal())
			}
		})
	}
}

func TestMaintenanceCheckGlobalAndUnrecorded(t *testing.T) {
	global := Service{Stack: "mon", Service: "agent", Recorded: true, RunningOn: map[string]int{"n1": 1, "n2": 1, "n3": 1},
		Deploy: model.DeploySpec{Mode: model.ModeGlobal, UpdateConfig: model.UpdateConfig{Parallelism: 1}}}
	unrecorded := Service{Stack: "old", Service: "db", RunningOn: map[string]int{"n1": 2}}
	res := Check("n1", three, []Service{global, unrecorded})
	if res.Services[0].Stack != "mon" || !res.Services[0].OK {
		t.Fatalf("global: %+v", res.Services[0])
	}
	if res.OK || res.Services[1].OK || res.Services[1].Floor != 1 {
		t.Fatalf("unrecorded service with both replicas on n1 must refuse: %+v", res.Services[1])
	}
}
