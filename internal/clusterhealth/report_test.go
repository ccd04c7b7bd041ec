package clusterhealth

import (
	"strings"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

func member(name, status, fd string, roles ...string) Member {
	return Member{Name: name, Status: status, Message: "Fully operational", Roles: roles, FailureDomain: fd}
}

func inst(name, member, stack, service, slot, status string) model.Instance {
	cfg := map[string]string{}
	if stack != "" {
		cfg = map[string]string{model.KeyStack: stack, model.KeyService: service, model.KeySlot: slot}
	}
	return model.Instance{Name: name, Project: stack, Member: member, Status: status, Config: cfg}
}

func hasWarning(ws []string, part string) bool {
	for _, w := range ws {
		if strings.Contains(w, part) {
			return true
		}
	}
	return false
}

func TestHealthyClusterHasNoWarnings(t *testing.T) {
	r := Build(Input{
		Members: []Member{member("n1", "Online", "r1", "database", "database-leader"), member("n2", "Online", "r2", "database"),
			member("n3", "Online", "r1", "database")},
		Pools: []Pool{{Name: "local", Driver: "dir", Status: "Created", ByMember: map[string]string{"n1": "Created", "n2": "Created", "n3": "Created"}}},
		Instances: []model.Instance{inst("web-1", "n1", "shop", "web", "1", "Running"), inst("web-2", "n2", "shop", "web", "2", "Running"),
			inst("pet", "n3", "", "", "", "Running")},
	})
	if len(r.Warnings) != 0 || !r.Healthy {
		t.Fatalf("warnings %q healthy %v", r.Warnings, r.Healthy)
	}
	if r.Database.Leader != "n1" || len(r.Database.Voters) != 3 || r.Database.MaxVoters != 3 || r.Database.MaxStandby != 2 {
		t.Fatalf("database %+v", r.Database)
	}
	if r.Instances["n1"]["shop"] != 1 || r.Instances["n3"][Unmanaged] != 1 || len(r.Instances["n2"]) != 1 {
		t.Fatalf("instances %v", r.Instances)
	}
}

func TestHealthWarnings(t *testing.T) {
	cases := []struct {
		name string
		in   Input
		want []string
	}{
		{"even member count", Input{Members: []Member{member("a", "Online", "", "database"), member("b", "Online", "", "database"),
			member("c", "Online", "", "database"), member("d", "Online", "", "database-standby")}},
			[]string{"4 members, an even number"}},
		{"voters short of max_voters", Input{Settings: map[string]string{"cluster.max_voters": "5"},
			Members: []Member{member("a", "Online", "", "database"), member("b", "Online", "", "database"), member("c", "Online", "", "database")}},
			[]string{"3 voters, fewer than cluster.max_voters 5 (the cluster has only 3 members)"}},
		{"offline voter", Input{Members: []Member{member("a", "Online", "", "database"), member("b", "Offline", "", "database"),
			member("c", "Online", "", "database")}},
			[]string{"database voter b is Offline", "member b is Offline"}},
		{"pool not created everywhere", Input{Members: []Member{member("a", "Online", "", "database")},
			Pools: []Pool{{Name: "p", ByMember: map[string]string{"a": "Pending"}}}},
			[]string{"storage pool p is not ready on every member: a Pending"}},
		{"replicas in one failure domain", Input{
			Members: []Member{member("a", "Online", "r1", "database"), member("b", "Online", "r1", "database"), member("c", "Online", "r2", "database")},
			Instances: []model.Instance{inst("web-1", "a", "shop", "web", "1", "Running"), inst("web-2", "b", "shop", "web", "2", "Running"),
				inst("db-1", "a", "shop", "db", "1", "Running"), inst("db-2", "c", "shop", "db", "2", "Running")}},
			[]string{"stack shop: all 2 running replicas of service web are in failure domain r1, though the cluster has 2 (r1, r2)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := Build(tc.in)
			unhealthy := strings.Contains(tc.name, "offline") || strings.Contains(tc.name, "pool")
			if r.Healthy == unhealthy {
				t.Errorf("healthy %v", r.Healthy)
			}
			for _, w := range tc.want {
				if !hasWarning(r.Warnings, w) {
					t.Errorf("no warning %q in %q", w, r.Warnings)
				}
			}
			if hasWarning(r.Warnings, "service db") {
				t.Errorf("db is spread over two domains, yet warned: %q", r.Warnings)
			}
		})
	}
}

func TestOneFailureDomainIsNotConcentration(t *testing.T) {
	r := Build(Input{Members: []Member{member("a", "Online", "default", "database"), member("b", "Online", "default", "database"),
		member("c", "Online", "default", "database")},
		Instances: []model.Instance{inst("web-1", "a", "shop", "web", "1", "Running"), inst("web-2", "b", "shop", "web", "2", "Running")}})
	if len(r.Warnings) != 0 {
		t.Fatalf("warnings %q", r.Warnings)
	}
}
