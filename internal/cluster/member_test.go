package cluster

import (
	"reflect"
	"testing"
)

func ptr(s string) *string { return &s }

func TestPlanMember(t *testing.T) {
	cases := []struct {
		name       string
		desired    Desired
		cur        Member
		groups     []string
		wantConfig map[string]string
		wantGroups []string
		wantFD     string
		wantCreate []string
		wantKeys   []string
	}{
		{
			name: "new member gets labels, groups and failure domain",
			desired: Desired{Labels: map[string]string{"rack": "r1", "ssd": "true"}, Groups: []string{"gpu", "default"}, FailureDomain: ptr("rack1"),
				Description: ptr("Cluster node 2")},
			cur:        NewMember("m2"),
			groups:     []string{"default"},
			wantConfig: map[string]string{"user.rack": "r1", "user.ssd": "true", KeyManagedLabels: "rack,ssd"},
			wantGroups: []string{"default", "gpu"},
			wantFD:     "rack1",
			wantCreate: []string{"gpu"},
			wantKeys:   []string{"labels.rack", "labels.ssd", "cluster_groups.gpu", "groups", "failure_domain", "description"},
		},
		{
			name:    "converged member: nothing to do",
			desired: Desired{Labels: map[string]string{"rack": "r1"}, Groups: []string{"gpu"}, FailureDomain: ptr("rack1")},
			cur: Member{Config: map[string]string{"user.rack": "r1", KeyManagedLabels: "rack", "user.publish_address": "127.0.0.2"},
				Groups: []string{"gpu"}, FailureDomain: "rack1"},
			groups:     []string{"default", "gpu"},
			wantConfig: map[string]string{"user.rack": "r1", KeyManagedLabels: "rack", "user.publish_address": "127.0.0.2"},
			wantGroups: []string{"gpu"},
			wantFD:     "rack1",
		},
		{
			name:    "label dropped from the desired set is removed, foreign label kept",
			desired: Desired{Labels: map[string]string{"rack": "r2"}},
			cur: Member{Config: map[string]string{"user.rack": "r1", "user.ssd": "true", KeyManagedLabels: "rack,ssd", "user.publish_address": "x"},
				Groups: []string{"default"}, FailureDomain: "default"},
			wantConfig: map[string]string{"user.rack": "r2", KeyManagedLabels: "rack", "user.publish_address": "x"},
			wantGroups: []string{"default"},
			wantFD:     "default",
			wantKeys:   []string{"labels.rack", "labels.ssd"},
		},
		{
			name:       "labels {} means none: managed ones go, the record too",
			desired:    Desired{Labels: map[string]string{}},
			cur:        Member{Config: map[string]string{"user.ssd": "true", KeyManagedLabels: "ssd"}, Groups: []string{"default"}, FailureDomain: "default"},
			wantConfig: map[string]string{},
			wantGroups: []string{"default"},
			wantFD:     "default",
			wantKeys:   []string{"labels.ssd"},
		},
		{
			name:       "foreign label with the wanted value is taken over: only the record changes",
			desired:    Desired{Labels: map[string]string{"publish_address": "x"}},
			cur:        Member{Config: map[string]string{"user.publish_address": "x"}, Groups: []string{"default"}, FailureDomain: "default"},
			wantConfig: map[string]string{"user.publish_address": "x", KeyManagedLabels: "publish_address"},
			wantGroups: []string{"default"},
			wantFD:     "default",
			wantKeys:   []string{"managed_labels"},
		},
		{
			// Issue 12 item 11: omitted = not managed, as for groups.
			name:       "labels omitted: the managed ones stay",
			desired:    Desired{},
			cur:        Member{Config: map[string]string{"user.ssd": "true", KeyManagedLabels: "ssd"}, Groups: []string{"default"}, FailureDomain: "default"},
			wantConfig: map[string]string{"user.ssd": "true", KeyManagedLabels: "ssd"},
			wantGroups: []string{"default"},
			wantFD:     "default",
		},
		{
			name:       "groups and failure domain left alone when not asked for",
			desired:    Desired{},
			cur:        Member{Config: map[string]string{}, Groups: []string{"b", "a"}, FailureDomain: "rack9"},
			wantConfig: map[string]string{},
			wantGroups: []string{"a", "b"},
			wantFD:     "rack9",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := PlanMember(c.desired, c.cur, c.groups)
			if !reflect.DeepEqual(p.Config, c.wantConfig) {
				t.Errorf("config %v, want %v", p.Config, c.wantConfig)
			}
			if !reflect.DeepEqual(p.Groups, c.wantGroups) {
				t.Errorf("groups %v, want %v", p.Groups, c.wantGroups)
			}
			if p.FailureDomain != c.wantFD {
				t.Errorf("failure domain %q, want %q", p.FailureDomain, c.wantFD)
			}
			if !reflect.DeepEqual(p.CreateGroups, c.wantCreate) {
				t.Errorf("create groups %v, want %v", p.CreateGroups, c.wantCreate)
			}
			var keys []string
			for _, ch := range p.Changes {
				keys = append(keys, ch.Key)
			}
			if !reflect.DeepEqual(keys, c.wantKeys) {
				t.Errorf("changes %v, want %v", keys, c.wantKeys)
			}
			if p.Changed() != (len(c.wantKeys) > 0) {
				t.Errorf("Changed() = %v", p.Changed())
			}
			// Applying the plan and planning again must be a no-op.
			after := Member{Config: p.Config, Groups: p.Groups, FailureDomain: p.FailureDomain, Description: p.Description}
			if again := PlanMember(c.desired, after, append(c.groups, p.CreateGroups...)); again.Changed() {
				t.Errorf("not idempotent: second plan %+v", again.Changes)
			}
		})
	}
}

func TestPlanMemberDoesNotModifyCurrent(t *testing.T) {
	cur := Member{Config: map[string]string{"user.a": "1", KeyManagedLabels: "a"}, Groups: []string{"default"}}
	PlanMember(Desired{Labels: map[string]string{"b": "2"}}, cur, nil)
	if !reflect.DeepEqual(cur.Config, map[string]string{"user.a": "1", KeyManagedLabels: "a"}) {
		t.Fatalf("current config modified: %v", cur.Config)
	}
}

func TestIsLabelKey(t *testing.T) {
	for key, want := range map[string]bool{"user.rack": true, "user.fleet.labels": false, "scheduler.instance": false, "user.fleetish": true} {
		if IsLabelKey(key) != want {
			t.Errorf("IsLabelKey(%q) = %v", key, !want)
		}
	}
}
