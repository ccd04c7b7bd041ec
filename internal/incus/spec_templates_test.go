package incus

import (
	"strings"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// TestInstanceSpecExpandsSwarmTemplates: environment, hostname and member
// bind sources get each instance's own service, member, slot and name,
// while the model (and so the config hash) keeps the templates as written:
// the same service placed on two members has one hash.
func TestInstanceSpecExpandsSwarmTemplates(t *testing.T) {
	svc := &model.Service{
		Name: "web",
		Environment: map[string]string{
			"ALL":   "{{.Service.Name}}/{{.Node.Hostname}}/{{.Node.ID}}/{{ .Task.Slot }}/{{.Task.Name}}",
			"OTHER": "{{.Time}} stays",
		},
		Runtime: model.Runtime{
			Hostname:  "{{.Service.Name}}-{{.Task.Slot}}",
			HostBinds: []model.HostBind{{Source: "/srv/{{.Node.Hostname}}/data", Target: "/data"}},
		},
	}
	for _, tc := range []struct {
		step                     model.Step
		all, uts, bind, otherEnv string
	}{
		{model.Step{Instance: "web-1", Slot: 1, Member: "node1"}, "web/node1/node1/1/web-1", "lxc.uts.name = web-1", "/srv/node1/data", "{{.Time}} stays"},
		{model.Step{Instance: "web-2-b", Slot: 2, Member: "node3"}, "web/node3/node3/2/web-2-b", "lxc.uts.name = web-2", "/srv/node3/data", "{{.Time}} stays"},
	} {
		post := InstanceSpec("demo", svc, tc.step, localImage("busybox", "f"), model.Member{Name: tc.step.Member}, "h@f")
		if got := post.Config["environment.ALL"]; got != tc.all {
			t.Errorf("%s: ALL = %q, want %q", tc.step.Instance, got, tc.all)
		}
		if got := post.Config["environment.OTHER"]; got != tc.otherEnv {
			t.Errorf("%s: OTHER = %q, want it as written", tc.step.Instance, got)
		}
		if !strings.Contains(post.Config["raw.lxc"], tc.uts) {
			t.Errorf("%s: raw.lxc %q lacks %q", tc.step.Instance, post.Config["raw.lxc"], tc.uts)
		}
		if got := post.Devices["bind-0"]["source"]; got != tc.bind {
			t.Errorf("%s: bind source %q, want %q", tc.step.Instance, got, tc.bind)
		}
		if post.Config[model.KeyHash] != "h@f" {
			t.Errorf("%s: hash %q", tc.step.Instance, post.Config[model.KeyHash])
		}
	}
	if svc.Environment["ALL"] != "{{.Service.Name}}/{{.Node.Hostname}}/{{.Node.ID}}/{{ .Task.Slot }}/{{.Task.Name}}" || svc.Runtime.Hostname != "{{.Service.Name}}-{{.Task.Slot}}" {
		t.Error("the model must keep the templates as written")
	}
}
