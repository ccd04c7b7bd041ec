package composeload

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// Swarm's update/rollback defaults (docker service create --help).
const (
	defaultParallelism   = 1
	defaultFailureAction = "pause"
	defaultMonitor       = 5 * time.Second
)

// toUpdateConfig maps update_config or rollback_config (attr names which).
// Swarm fills absent fields with its defaults; an explicit parallelism 0
// means "all at once" and is kept. A zero monitor cannot be told apart from
// an absent one in compose-go's types, so it also gets the 5s default.
func toUpdateConfig(service, attr string, u *types.UpdateConfig, rollback bool) (model.UpdateConfig, error) {
	out := model.UpdateConfig{
		Parallelism:   defaultParallelism,
		FailureAction: defaultFailureAction,
		Monitor:       defaultMonitor,
		Order:         model.OrderStopFirst,
	}
	if u == nil {
		return out, nil
	}
	if u.Parallelism != nil {
		n, ok := toInt(*u.Parallelism)
		if !ok {
			return out, serviceErr(service, attr+".parallelism", "%d is too large; use 0 to update all at once", *u.Parallelism)
		}
		out.Parallelism = n
	}
	if u.Delay < 0 {
		return out, serviceErr(service, attr+".delay", "%s is negative; use a duration such as 10s", time.Duration(u.Delay))
	}
	out.Delay = time.Duration(u.Delay)
	if u.Monitor < 0 {
		return out, serviceErr(service, attr+".monitor", "%s is negative; use a duration such as 5s", time.Duration(u.Monitor))
	}
	if u.Monitor > 0 {
		out.Monitor = time.Duration(u.Monitor)
	}
	actions := []string{"pause", "continue", "rollback"}
	if rollback {
		actions = []string{"pause", "continue"} // a rollback cannot roll back
	}
	switch {
	case u.FailureAction == "":
	case slices.Contains(actions, u.FailureAction):
		out.FailureAction = u.FailureAction
	default:
		return out, serviceErr(service, attr+".failure_action", "%q is invalid; use %s", u.FailureAction, orList(actions))
	}
	ratio := float32To64(u.MaxFailureRatio)
	if ratio < 0 || ratio > 1 || math.IsNaN(ratio) {
		return out, serviceErr(service, attr+".max_failure_ratio", "%v is out of range; use a fraction between 0 and 1", u.MaxFailureRatio)
	}
	out.MaxFailureRatio = ratio
	switch u.Order {
	case "":
	case model.OrderStartFirst, model.OrderStopFirst:
		out.Order = u.Order
	default:
		return out, serviceErr(service, attr+".order", "%q is invalid; use stop-first or start-first", u.Order)
	}
	return out, nil
}

// toRestartPolicy maps deploy.restart_policy, or the service-level restart:
// when it is absent. Only the condition has an Incus equivalent (boot.*
// settings); the other fields are kept in the model but reported ignored.
func toRestartPolicy(s types.ServiceConfig, w *warnings) (model.RestartPolicy, error) {
	if s.Deploy == nil || s.Deploy.RestartPolicy == nil {
		return fromRestart(s, w)
	}
	rp := s.Deploy.RestartPolicy
	out := model.RestartPolicy{Condition: "any"} // Swarm's default
	switch rp.Condition {
	case "":
	case "none", "on-failure", "any":
		out.Condition = rp.Condition
	default:
		return out, serviceErr(s.Name, "deploy.restart_policy.condition", "%q is invalid; use none, on-failure or any", rp.Condition)
	}
	var ignored []string
	if rp.Delay != nil {
		if *rp.Delay < 0 {
			return out, serviceErr(s.Name, "deploy.restart_policy.delay", "%s is negative; use a duration such as 5s", time.Duration(*rp.Delay))
		}
		out.Delay = time.Duration(*rp.Delay)
		ignored = append(ignored, "delay")
	}
	if rp.MaxAttempts != nil {
		n, ok := toInt(*rp.MaxAttempts)
		if !ok {
			return out, serviceErr(s.Name, "deploy.restart_policy.max_attempts", "%d is too large", *rp.MaxAttempts)
		}
		out.MaxAttempts = n
		ignored = append(ignored, "max_attempts")
	}
	if rp.Window != nil {
		if *rp.Window < 0 {
			return out, serviceErr(s.Name, "deploy.restart_policy.window", "%s is negative; use a duration such as 2m", time.Duration(*rp.Window))
		}
		out.Window = time.Duration(*rp.Window)
		ignored = append(ignored, "window")
	}
	if len(ignored) > 0 {
		w.add(fmt.Sprintf("service %q: deploy.restart_policy %s apply only to the restarts that stack watch makes of replicas whose healthcheck fails; a process that exits is restarted by Incus at once, without limit (boot.autorestart)", s.Name, strings.Join(ignored, ", ")))
	}
	return out, nil
}

// fromRestart maps the docker-compose restart: values onto Swarm conditions.
// With neither restart: nor restart_policy, Swarm's default "any" applies.
func fromRestart(s types.ServiceConfig, w *warnings) (model.RestartPolicy, error) {
	switch s.Restart {
	case "", "always", "unless-stopped":
		return model.RestartPolicy{Condition: "any"}, nil
	case "no":
		return model.RestartPolicy{Condition: "none"}, nil
	case "on-failure":
		return model.RestartPolicy{Condition: "on-failure"}, nil
	}
	if n, ok := strings.CutPrefix(s.Restart, "on-failure:"); ok {
		attempts, err := strconv.Atoi(n)
		if err == nil && attempts >= 0 {
			w.add(unsupported(s.Name, "restart "+s.Restart+" max_attempts", "Incus restarts a stopped instance at once, without limit (boot.autorestart); only on-failure is applied"))
			return model.RestartPolicy{Condition: "on-failure", MaxAttempts: attempts}, nil
		}
	}
	return model.RestartPolicy{}, serviceErr(s.Name, "restart", "%q is invalid; use no, always, on-failure, on-failure:N or unless-stopped", s.Restart)
}

// orList renders ["a","b","c"] as "a, b or c" for error messages.
func orList(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}
