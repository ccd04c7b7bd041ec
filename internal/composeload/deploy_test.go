package composeload

import (
	"reflect"
	"testing"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// svc wraps one service body (indented 4 spaces) into a compose file.
func svc(body string) string {
	return "services:\n  web:\n    image: nginx\n" + body
}

func TestDeployMapping(t *testing.T) {
	tests := []struct {
		name string
		body string
		want func(d *model.DeploySpec)
	}{
		{"no deploy", "", func(d *model.DeploySpec) {}},
		{"scale sets replicas", "    scale: 4\n", func(d *model.DeploySpec) { d.Replicas = 4 }},
		{"scale with deploy section", "    scale: 2\n    deploy:\n      mode: replicated\n", func(d *model.DeploySpec) { d.Replicas = 2 }},
		{"replicas zero kept", "    deploy:\n      replicas: 0\n", func(d *model.DeploySpec) { d.Replicas = 0 }},
		{"parallelism 0 means all at once", "    deploy:\n      update_config:\n        parallelism: 0\n", func(d *model.DeploySpec) { d.UpdateConfig.Parallelism = 0 }},
		{
			"full update and rollback config",
			`    deploy:
      update_config:
        parallelism: 2
        delay: 10s
        failure_action: rollback
        monitor: 30s
        max_failure_ratio: 0.25
        order: start-first
      rollback_config:
        parallelism: 0
        failure_action: continue
        order: start-first
`,
			func(d *model.DeploySpec) {
				d.UpdateConfig = model.UpdateConfig{Parallelism: 2, Delay: 10 * time.Second, FailureAction: "rollback",
					Monitor: 30 * time.Second, MaxFailureRatio: 0.25, Order: model.OrderStartFirst}
				d.RollbackConfig = model.UpdateConfig{Parallelism: 0, FailureAction: "continue",
					Monitor: 5 * time.Second, Order: model.OrderStartFirst}
			},
		},
		{
			"resources",
			`    deploy:
      resources:
        limits: {cpus: "0.5", memory: 512M, pids: 100}
        reservations: {cpus: "0.1", memory: 128M}
`,
			func(d *model.DeploySpec) {
				d.Resources = model.Resources{LimitCPUs: 0.5, LimitMemoryBytes: 512 << 20, LimitPids: 100,
					ReserveCPUs: 0.1, ReserveMemoryBytes: 128 << 20}
			},
		},
		{
			"service-level limits fill deploy.resources",
			"    cpus: 1.5\n    mem_limit: 1g\n    mem_reservation: 256m\n    pids_limit: -1\n",
			func(d *model.DeploySpec) {
				d.Resources = model.Resources{LimitCPUs: 1.5, LimitMemoryBytes: 1 << 30, ReserveMemoryBytes: 256 << 20}
			},
		},
		{
			"placement trimmed and ordered",
			`    deploy:
      placement:
        constraints: ["  node.labels.zone != b  ", "node.role==manager"]
        preferences: [{spread: node.labels.rack}, {spread: node.labels.zone}]
        max_replicas_per_node: 2
`,
			func(d *model.DeploySpec) {
				d.Placement = model.Placement{
					Constraints:        []string{"node.labels.zone != b", "node.role==manager"},
					Spread:             []string{"node.labels.rack", "node.labels.zone"},
					MaxReplicasPerNode: 2,
				}
			},
		},
		{"restart no", "    restart: \"no\"\n", func(d *model.DeploySpec) { d.RestartPolicy.Condition = "none" }},
		{"restart always", "    restart: always\n", func(d *model.DeploySpec) { d.RestartPolicy.Condition = "any" }},
		{"restart unless-stopped", "    restart: unless-stopped\n", func(d *model.DeploySpec) { d.RestartPolicy.Condition = "any" }},
		{"restart on-failure", "    restart: on-failure\n", func(d *model.DeploySpec) { d.RestartPolicy.Condition = "on-failure" }},
		{"restart on-failure:N", "    restart: on-failure:3\n", func(d *model.DeploySpec) {
			d.RestartPolicy = model.RestartPolicy{Condition: "on-failure", MaxAttempts: 3}
		}},
		{
			"restart_policy wins over restart",
			"    restart: \"no\"\n    deploy:\n      restart_policy:\n        condition: any\n",
			func(d *model.DeploySpec) { d.RestartPolicy.Condition = "any" },
		},
		{
			"restart_policy default condition",
			"    deploy:\n      restart_policy:\n        window: 2m\n",
			func(d *model.DeploySpec) {
				d.RestartPolicy = model.RestartPolicy{Condition: "any", Window: 2 * time.Minute}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := mustLoad(t, svc(tt.body))
			want := defaults(model.ModeReplicated, 1)
			tt.want(&want)
			if got := st.Services[0].Deploy; !reflect.DeepEqual(got, want) {
				t.Errorf("deploy =\n %+v\nwant\n %+v", got, want)
			}
		})
	}
}

func TestDeployErrors(t *testing.T) {
	tests := []struct {
		name, body, field string
		fragments         []string
	}{
		{"global with replicas", "    deploy:\n      mode: global\n      replicas: 2\n",
			"services.web.deploy.replicas", []string{`service "web"`, "cannot be used with mode global", "remove replicas or use mode replicated"}},
		{"global with scale", "    scale: 2\n    deploy:\n      mode: global\n",
			"services.web.scale", []string{"cannot be used with deploy.mode global", "remove scale"}},
		{"replicated-job", "    deploy:\n      mode: replicated-job\n",
			"services.web.deploy.mode", []string{`"replicated-job" is not supported`, "use replicated or global"}},
		{"global-job", "    deploy:\n      mode: global-job\n",
			"services.web.deploy.mode", []string{`"global-job" is not supported`}},
		{"unknown mode", "    deploy:\n      mode: everywhere\n",
			"services.web.deploy.mode", []string{`"everywhere" is unknown`, "use replicated or global"}},
		{"update order", "    deploy:\n      update_config:\n        order: random\n",
			"services.web.deploy.update_config.order", []string{"start-first", "stop-first"}},
		{"rollback order", "    deploy:\n      rollback_config:\n        order: random\n",
			"services.web.deploy.rollback_config.order", []string{"start-first", "stop-first"}},
		{"update failure_action", "    deploy:\n      update_config:\n        failure_action: explode\n",
			"services.web.deploy.update_config.failure_action", []string{`"explode" is invalid`, "pause, continue or rollback"}},
		{"rollback failure_action rollback", "    deploy:\n      rollback_config:\n        failure_action: rollback\n",
			"services.web.deploy.rollback_config.failure_action", []string{`"rollback" is invalid`, "pause or continue"}},
		{"max_failure_ratio", "    deploy:\n      update_config:\n        max_failure_ratio: 1.5\n",
			"services.web.deploy.update_config.max_failure_ratio", []string{"between 0 and 1"}},
		{"negative delay", "    deploy:\n      update_config:\n        delay: -5s\n",
			"services.web.deploy.update_config.delay", []string{"negative"}},
		{"restart_policy condition", "    deploy:\n      restart_policy:\n        condition: always\n",
			"services.web.deploy.restart_policy.condition", []string{`"always" is invalid`, "none, on-failure or any"}},
		{"restart value", "    restart: sometimes\n",
			"services.web.restart", []string{`"sometimes" is invalid`, "unless-stopped"}},
		{"restart bad retries", "    restart: on-failure:x\n",
			"services.web.restart", []string{`"on-failure:x" is invalid`}},
		{"empty constraint", "    deploy:\n      placement:\n        constraints: [\" \"]\n",
			"services.web.deploy.placement.constraints[0]", []string{"is empty", "node.labels.storage == ssd"}},
		{"empty spread", "    deploy:\n      placement:\n        preferences: [{spread: \"\"}]\n",
			"services.web.deploy.placement.preferences[0].spread", []string{"is empty"}},
		{"negative cpus", "    deploy:\n      resources:\n        limits: {cpus: \"-1\"}\n",
			"services.web.deploy.resources.limits.cpus", []string{"positive"}},
		{"negative replicas", "    deploy:\n      replicas: -1\n",
			"services.web.deploy.replicas", []string{"greater than or equal to 0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadInline(t, svc(tt.body))
			wantError(t, err, tt.field, tt.fragments...)
		})
	}
}

func TestServiceErrors(t *testing.T) {
	tests := []struct {
		name, yaml, field string
		fragments         []string
	}{
		{"no image", "services:\n  web:\n    command: [sleep, inf]\n    build: .\n",
			"services.web.image", []string{`service "web"`, "image is required", "x-incus.image"}},
		{"x-incus not a mapping", "services:\n  web:\n    image: a\n    x-incus: images:debian/12\n",
			"services.web.x-incus", []string{"must be a mapping"}},
		{"x-incus.image empty", "services:\n  web:\n    image: a\n    x-incus: {image: \"\"}\n",
			"services.web.x-incus.image", []string{"non-empty image name"}},
		{"x-incus.image not a string", "services:\n  web:\n    image: a\n    x-incus: {image: [a]}\n",
			"services.web.x-incus.image", []string{"non-empty image name"}},
		{"healthcheck empty CMD", "services:\n  web:\n    image: a\n    healthcheck:\n      test: [CMD]\n",
			"services.web.healthcheck.test", []string{"no command"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadInline(t, tt.yaml)
			wantError(t, err, tt.field, tt.fragments...)
		})
	}
}

func TestWarnings(t *testing.T) {
	st := mustLoad(t, `
services:
  zeta:
    image: z
    build: ./zeta
    restart: on-failure:5
  alpha:
    image: a
    environment:
      - GREETING=${UNSET_GREETING}
    deploy:
      endpoint_mode: dnsrr
      restart_policy:
        condition: any
        window: 60s
        max_attempts: 2
        delay: 1s
  beta:
    image: b
    healthcheck:
      interval: 5s
`)
	want := []string{
		`service "alpha": deploy.endpoint_mode is not supported on Incus (Incus has no service virtual IP or DNS round-robin); ignored`,
		`service "alpha": deploy.restart_policy delay, max_attempts, window apply only to the restarts that stack watch makes of replicas whose healthcheck fails; a process that exits is restarted by Incus at once, without limit (boot.autorestart)`,
		`service "zeta": build is not supported on Incus (images must already exist in Incus: set image or x-incus.image); ignored`,
		`service "zeta": restart on-failure:5 max_attempts is not supported on Incus (Incus restarts a stopped instance at once, without limit (boot.autorestart); only on-failure is applied); ignored`,
		`variable "UNSET_GREETING" is not set: substituted an empty string (set it in Env, .env or the environment, or write ${UNSET_GREETING:-default})`,
	}
	if !reflect.DeepEqual(st.Warnings, want) {
		t.Errorf("warnings =\n%q\nwant\n%q", st.Warnings, want)
	}
	// Without test the image's HEALTHCHECK runs (an OCI image's, read when
	// the image is resolved), with the interval given here; nothing to warn
	// about while loading.
	if hc := st.Service("beta").Healthcheck; hc == nil || len(hc.Test) != 0 || hc.Interval != 5e9 || hc.Timeout != 0 || hc.Retries != 0 || hc.Disabled {
		t.Errorf("a healthcheck without test keeps only what it sets: %+v", hc)
	}
}

func TestWarningsSortedAndDeduplicated(t *testing.T) {
	w := &warnings{}
	for _, m := range []string{"b", "a", "b", "c", "a"} {
		w.add(m)
	}
	if got, want := w.list(), []string{"a", "b", "c"}; !reflect.DeepEqual(got, want) {
		t.Errorf("list = %q, want %q", got, want)
	}
	if (&warnings{}).list() != nil {
		t.Error("no warnings must be nil, not empty")
	}
}
