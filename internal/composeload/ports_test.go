package composeload

import (
	"reflect"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

func TestPorts(t *testing.T) {
	tests := []struct {
		name  string
		ports string
		want  []model.Port
	}{
		{"published range to one target", `["8080-8082:80"]`,
			[]model.Port{{PublishedStart: 8080, PublishedEnd: 8082, Target: 80, Protocol: "tcp"}}},
		{"single published", `["8080:80"]`,
			[]model.Port{{PublishedStart: 8080, PublishedEnd: 8080, Target: 80, Protocol: "tcp"}}},
		{"no host port: published on the container port", `["9090"]`,
			[]model.Port{{PublishedStart: 9090, PublishedEnd: 9090, Target: 9090, Protocol: "tcp"}}},
		{"container-port range, as Compose expands it", `["3001-3003"]`,
			[]model.Port{
				{PublishedStart: 3001, PublishedEnd: 3001, Target: 3001, Protocol: "tcp"},
				{PublishedStart: 3002, PublishedEnd: 3002, Target: 3002, Protocol: "tcp"},
				{PublishedStart: 3003, PublishedEnd: 3003, Target: 3003, Protocol: "tcp"},
			}},
		{"host range to container range, pairwise", `["8080-8081:80-81/udp"]`,
			[]model.Port{
				{PublishedStart: 8080, PublishedEnd: 8080, Target: 80, Protocol: "udp"},
				{PublishedStart: 8081, PublishedEnd: 8081, Target: 81, Protocol: "udp"},
			}},
		{"host ip and udp", `["127.0.0.1:5353:53/udp"]`,
			[]model.Port{{HostIP: "127.0.0.1", PublishedStart: 5353, PublishedEnd: 5353, Target: 53, Protocol: "udp"}}},
		{"host ip with range", `["127.0.0.1:7000-7001:7000"]`,
			[]model.Port{{HostIP: "127.0.0.1", PublishedStart: 7000, PublishedEnd: 7001, Target: 7000, Protocol: "tcp"}}},
		{"long syntax", `[{target: 443, published: "8443", host_ip: 0.0.0.0}]`,
			[]model.Port{{HostIP: "0.0.0.0", PublishedStart: 8443, PublishedEnd: 8443, Target: 443, Protocol: "tcp"}}},
		{"long syntax range", `[{target: 80, published: "8000-8009", protocol: udp}]`,
			[]model.Port{{PublishedStart: 8000, PublishedEnd: 8009, Target: 80, Protocol: "udp"}}},
		{"order kept", `["81:80", "8080-8081:8080"]`,
			[]model.Port{
				{PublishedStart: 81, PublishedEnd: 81, Target: 80, Protocol: "tcp"},
				{PublishedStart: 8080, PublishedEnd: 8081, Target: 8080, Protocol: "tcp"},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := mustLoad(t, "services:\n  web:\n    image: nginx\n    ports: "+tt.ports+"\n")
			got := st.Services[0].Ports
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ports =\n %+v\nwant\n %+v", got, tt.want)
			}
			for i, p := range got {
				if p.IsRange() != (p.PublishedEnd > p.PublishedStart) {
					t.Errorf("port %d: IsRange inconsistent", i)
				}
			}
		})
	}
}

func TestPortErrors(t *testing.T) {
	tests := []struct {
		name, ports, field string
		env                map[string]string
		fragments          []string
	}{
		{"sctp", `["9000:9000/sctp"]`, "services.web.ports[0]", nil,
			[]string{`"sctp"`, "tcp and udp"}},
		{"random host port", `[{target: 80, published: "0"}]`, "services.web.ports[0]", nil,
			[]string{"host port 0", "fixed port"}},
		{"reversed range", `[{target: 80, published: "8090-8080"}]`, "services.web.ports[0]", nil,
			[]string{"ends before it starts"}},
		{"port out of range", `[{target: 80, published: "70000"}]`, "services.web.ports[0]", nil,
			[]string{"between 1 and 65535"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadInline(t, "services:\n  web:\n    image: nginx\n    ports: "+tt.ports+"\n",
				func(o *Options) { o.Env = tt.env })
			wantError(t, err, tt.field, tt.fragments...)
		})
	}
}
