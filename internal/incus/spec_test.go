package incus

import (
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

func TestInstanceSpecMapsService(t *testing.T) {
	svc := &model.Service{
		Name:        "web",
		Command:     []string{"httpd", "-f", "-h", "/srv/my www", "it's"},
		Environment: map[string]string{"GREETING": "hi"},
		Labels:      map[string]string{"tier": "front"},
		Ports: []model.Port{
			{PublishedStart: 8080, PublishedEnd: 8080, Target: 80, Protocol: "tcp"},
			{HostIP: "127.0.0.9", PublishedStart: 9000, PublishedEnd: 9002, Target: 90, Protocol: "udp"},
			{Target: 7000},
		},
		Deploy: model.DeploySpec{
			Resources:     model.Resources{LimitCPUs: 1.5, LimitMemoryBytes: 64 << 20, LimitPids: 100},
			RestartPolicy: model.RestartPolicy{Condition: "none"},
		},
	}
	step := model.Step{Instance: "web-2", Slot: 2, Member: "node2", HostPorts: []int{8080, 9001, 0}}
	member := model.Member{Name: "node2", Labels: map[string]string{PublishAddressLabel: "127.0.0.2"}}
	img := localImage("busybox", "abc123")
	post := InstanceSpec("demo", svc, step, img, member, "h@abc123")

	want := map[string]string{
		model.KeyStack: "demo", model.KeyService: "web", model.KeySlot: "2", model.KeyHash: "h@abc123",
		"environment.GREETING": "hi", "user.label.tier": "front",
		"limits.cpu": "2", "limits.cpu.allowance": "150ms/100ms", "limits.memory": "67108864B", "limits.processes": "100",
		"boot.autostart": "false", "boot.autorestart": "false",
		initEnvKey: `ip link set lo up 2>/dev/null || ifconfig lo up 2>/dev/null; exec httpd -f -h '/srv/my www' 'it'"'"'s'`,
		"raw.lxc":  initCmdLXC,
	}
	for k, v := range want {
		if post.Config[k] != v {
			t.Errorf("config %s = %q, want %q", k, post.Config[k], v)
		}
	}
	if post.Name != "web-2" || post.Source.Fingerprint != "abc123" {
		t.Errorf("name %q source %+v", post.Name, post.Source)
	}
	if len(post.Devices) != 2 {
		t.Fatalf("devices %v, want two proxies (the unpublished port has none)", post.Devices)
	}
	if d := post.Devices["port-8080-tcp"]; d["listen"] != "tcp:127.0.0.2:8080" || d["connect"] != "tcp:127.0.0.1:80" {
		t.Errorf("published port without host_ip binds the member's publish_address: %v", d)
	}
	if d := post.Devices["port-9001-udp"]; d["listen"] != "udp:127.0.0.9:9001" || d["connect"] != "udp:127.0.0.1:90" {
		t.Errorf("range port of slot 2 with host_ip: %v", d)
	}
}

func TestInstanceSpecDefaults(t *testing.T) {
	svc := &model.Service{Name: "a", Ports: []model.Port{{PublishedStart: 80, PublishedEnd: 80, Target: 80}}}
	post := InstanceSpec("s", svc, model.Step{Instance: "a-1", Slot: 1, HostPorts: []int{80}}, localImage("x", "f"), model.Member{}, "h")
	if _, ok := post.Config["raw.lxc"]; ok {
		t.Error("no command: the image's own init must run")
	}
	if post.Config["boot.autorestart"] != "true" {
		t.Error("default restart policy (any) must restart")
	}
	if d := post.Devices["port-80-tcp"]; d["listen"] != "tcp:0.0.0.0:80" {
		t.Errorf("no host_ip and no publish_address label binds all addresses: %v", d)
	}
}
