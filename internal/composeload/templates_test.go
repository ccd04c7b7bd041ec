package composeload

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// TestSwarmTemplatesKeptForThePlacedInstance: the supported templates stay
// in the model as written (the instance spec expands them once the member
// is known), so the config hash is of the template; braces that are not
// Swarm's pass through as docker compose passes them.
func TestSwarmTemplatesKeptForThePlacedInstance(t *testing.T) {
	dir, _ := filepath.Abs("testdata/swarm-templates")
	st, err := Load(context.Background(), Options{Name: "test", Files: []string{filepath.Join(dir, "compose.yaml")}, LookupEnv: noEnv})
	if err != nil {
		t.Fatal(err)
	}
	web := st.Service("web")
	for k, want := range map[string]string{"SLOT": "{{.Task.Slot}}", "TASK": "{{ .Task.Name }}", "NODE": "{{.Node.Hostname}}",
		"NODE_ID": "{{.Node.ID}}", "SERVICE": "{{.Service.Name}}", "LOG_FORMAT": "{{.Time}} {{.Level}}"} {
		if web.Environment[k] != want {
			t.Errorf("environment %s = %q, want %q", k, web.Environment[k], want)
		}
	}
	if web.Runtime.Hostname != "{{.Service.Name}}-{{.Task.Slot}}" {
		t.Errorf("hostname %q", web.Runtime.Hostname)
	}
	if len(web.Runtime.HostBinds) != 1 || web.Runtime.HostBinds[0].Source != "/srv/{{.Node.Hostname}}/web" {
		t.Errorf("host binds %+v", web.Runtime.HostBinds)
	}
	if !strings.Contains(strings.Join(st.Warnings, "\n"), `volume "cache": name "{{.Service.Name}}-{{.Task.Slot}}-cache" ignored: the fleet names volumes itself, one per slot`) {
		t.Errorf("no warning about the volume name template in:\n%s", strings.Join(st.Warnings, "\n"))
	}
}

// TestSwarmTemplatesWithoutMeaningAreRefused: a Swarm template with no
// meaning here is compose_invalid, naming it, the service and the key.
func TestSwarmTemplatesWithoutMeaningAreRefused(t *testing.T) {
	tests := []struct{ yaml, field, text string }{
		{"services:\n  web:\n    image: busybox\n    environment: {ID: '{{.Service.ID}}'}\n", "services.web.environment.ID", "{{.Service.ID}}"},
		{"services:\n  web:\n    image: busybox\n    environment: {ID: 'task-{{ .Task.ID }}'}\n", "services.web.environment.ID", "{{.Task.ID}}"},
		{"services:\n  web:\n    image: busybox\n    hostname: '{{.Node.Platform.OS}}'\n", "services.web.hostname", "{{.Node.Platform.OS}}"},
		{"services:\n  web:\n    image: busybox\n    volumes: ['/srv/{{index .Service.Labels \"x\"}}:/d']\n", "services.web.volumes[0]", `{{index .Service.Labels "x"}}`},
		{"services:\n  web:\n    image: busybox\n    hostname: 'web_{{.Task.Slot}}'\n", "services.web.hostname", `"web_{{.Task.Slot}}" is not a valid host name`},
		{"services:\n  web:\n    image: busybox\n    volumes: ['./conf/{{.Task.Slot}}.conf:/etc/app.conf']\n", "services.web.volumes[0]", "uses a Swarm template, which is expanded only in paths of the member"},
		{"services:\n  web:\n    image: busybox\n    volumes: ['data:/d']\nvolumes:\n  data: {external: true, name: 'd-{{.Task.Slot}}'}\n", "volumes.data.name", "an external volume must name one existing Incus volume"},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			_, err := loadInline(t, tt.yaml)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if e.Field != tt.field || !strings.Contains(e.Message, tt.text) {
				t.Errorf("error field %q message %q; want field %q, text %q", e.Field, e.Message, tt.field, tt.text)
			}
		})
	}
}
