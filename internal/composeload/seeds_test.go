package composeload

import (
	"reflect"
	"testing"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// swarmUpdate is the update/rollback config Swarm uses when none is given.
var swarmUpdate = model.UpdateConfig{
	Parallelism:   1,
	FailureAction: "pause",
	Monitor:       5 * time.Second,
	Order:         model.OrderStopFirst,
}

// defaults returns a DeploySpec with every Swarm default, for tests to tweak.
func defaults(mode string, replicas int) model.DeploySpec {
	return model.DeploySpec{
		Mode:           mode,
		Replicas:       replicas,
		RestartPolicy:  model.RestartPolicy{Condition: "any"},
		UpdateConfig:   swarmUpdate,
		RollbackConfig: swarmUpdate,
	}
}

// TestSeedExamples loads the deploy: examples of the incus-compose HA
// proposal (shared/seeds/000_*) verbatim.
func TestSeedExamples(t *testing.T) {
	tests := []struct {
		name     string
		yaml     string
		service  string
		image    string
		deploy   func() model.DeploySpec
		warnings []string
	}{
		{
			name: "basic replica scaling",
			yaml: `
services:
  web:
    image: nginx:alpine
    deploy:
      replicas: 3
`,
			service: "web", image: "nginx:alpine",
			deploy: func() model.DeploySpec { return defaults(model.ModeReplicated, 3) },
		},
		{
			name: "global mode",
			yaml: `
services:
  agent:
    image: monitoring-agent:latest
    deploy:
      mode: global
`,
			service: "agent", image: "monitoring-agent:latest",
			deploy: func() model.DeploySpec { return defaults(model.ModeGlobal, 0) },
		},
		{
			name: "placement constraints and preferences",
			yaml: `
services:
  db:
    image: postgres:14
    deploy:
      replicas: 2
      placement:
        constraints:
          - node.labels.storage == ssd
        preferences:
          - spread: instanceId
`,
			service: "db", image: "postgres:14",
			deploy: func() model.DeploySpec {
				d := defaults(model.ModeReplicated, 2)
				d.Placement = model.Placement{
					Constraints: []string{"node.labels.storage == ssd"},
					Spread:      []string{"instanceId"},
				}
				return d
			},
		},
		{
			name: "restart policy",
			yaml: `
services:
  worker:
    image: myworker:latest
    deploy:
      restart_policy:
        condition: on-failure
        delay: 5s
        max_attempts: 3
`,
			service: "worker", image: "myworker:latest",
			deploy: func() model.DeploySpec {
				d := defaults(model.ModeReplicated, 1)
				d.RestartPolicy = model.RestartPolicy{Condition: "on-failure", Delay: 5 * time.Second, MaxAttempts: 3}
				return d
			},
			warnings: []string{`service "worker": deploy.restart_policy delay, max_attempts apply only to the restarts that stack watch makes of replicas whose healthcheck fails; a process that exits is restarted by Incus at once, without limit (boot.autorestart)`},
		},
		{
			name: "rolling updates",
			yaml: `
services:
  web:
    image: nginx:alpine
    deploy:
      replicas: 3
      update_config:
        parallelism: 1
        delay: 10s
        order: start-first
`,
			service: "web", image: "nginx:alpine",
			deploy: func() model.DeploySpec {
				d := defaults(model.ModeReplicated, 3)
				d.UpdateConfig.Delay = 10 * time.Second
				d.UpdateConfig.Order = model.OrderStartFirst
				return d
			},
		},
		{
			name: "resource limits",
			yaml: `
services:
  app:
    image: myapp:latest
    deploy:
      resources:
        limits:
          cpus: "1.0"
          memory: 1G
`,
			service: "app", image: "myapp:latest",
			deploy: func() model.DeploySpec {
				d := defaults(model.ModeReplicated, 1)
				d.Resources = model.Resources{LimitCPUs: 1, LimitMemoryBytes: 1 << 30}
				return d
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := mustLoad(t, tt.yaml)
			if len(st.Services) != 1 {
				t.Fatalf("services = %v", serviceNames(st))
			}
			s := st.Services[0]
			if s.Name != tt.service || s.Image != tt.image {
				t.Errorf("service %q image %q, want %q %q", s.Name, s.Image, tt.service, tt.image)
			}
			if want := tt.deploy(); !reflect.DeepEqual(s.Deploy, want) {
				t.Errorf("deploy =\n %+v\nwant\n %+v", s.Deploy, want)
			}
			if !reflect.DeepEqual(st.Warnings, tt.warnings) {
				t.Errorf("warnings = %q, want %q", st.Warnings, tt.warnings)
			}
			if len(s.Hash) != 64 {
				t.Errorf("hash = %q, want 64 hex digits", s.Hash)
			}
		})
	}
}
